// Command etcd is the etcd server built from go.etcd.io/etcd/server/v3 at the version
// k8s.io/kubernetes requires (the same thing etcd's own root main.go does).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
