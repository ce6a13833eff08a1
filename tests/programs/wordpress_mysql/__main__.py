"""Two single writers on ReadWriteOnce claims, both with `strategy: Recreate`, as the tutorial has
them; the password comes from a generated Secret. The gate must not tell either to run 3 replicas
with RollingUpdate (that would hang the rollout or corrupt MySQL); prod asks them to declare the
single-writer exception (or move to a StatefulSet)."""

import pulumi
import pulumi_kubernetes as k8s


def claim(name: str) -> k8s.core.v1.PersistentVolumeClaim:
    return k8s.core.v1.PersistentVolumeClaim(
        name,
        metadata={"name": name, "labels": {"app": "wordpress"}},
        spec={"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}}},
    )


password = k8s.core.v1.Secret("mysql-pass", string_data={"password": pulumi.Output.secret("change-me")})


def single_writer(tier: str, image: str, port: int, mount: str, env: list[dict[str, object]]) -> None:
    labels = {"app": "wordpress", "tier": tier}
    volume = claim(f"{tier}-pv-claim")
    k8s.apps.v1.Deployment(
        f"wordpress-{tier}",
        metadata={"labels": labels},
        spec={
            "selector": {"matchLabels": labels},
            "strategy": {"type": "Recreate"},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": tier,
                            "image": image,
                            "env": env,
                            "ports": [{"containerPort": port, "name": tier}],
                            "volumeMounts": [{"name": "data", "mountPath": mount}],
                        }
                    ],
                    "volumes": [
                        {"name": "data", "persistentVolumeClaim": {"claimName": volume.metadata.name}}
                    ],
                },
            },
        },
    )
    k8s.core.v1.Service(
        f"wordpress-{tier}",
        metadata={"name": "wordpress-mysql" if tier == "mysql" else "wordpress", "labels": labels},
        spec={
            "ports": [{"port": port if tier == "mysql" else 80, "targetPort": tier}],
            "selector": labels,
            **({"clusterIP": "None"} if tier == "mysql" else {"type": "LoadBalancer"}),
        },
    )


secret_ref = {"secretKeyRef": {"name": password.metadata.name, "key": "password"}}
single_writer(
    "mysql", "mysql:8.0", 3306, "/var/lib/mysql", [{"name": "MYSQL_ROOT_PASSWORD", "valueFrom": secret_ref}]
)
single_writer(
    "frontend",
    "wordpress:6.2.1-apache",
    80,
    "/var/www/html",
    [
        {"name": "WORDPRESS_DB_HOST", "value": "wordpress-mysql"},
        {"name": "WORDPRESS_DB_PASSWORD", "valueFrom": secret_ref},
    ],
)
