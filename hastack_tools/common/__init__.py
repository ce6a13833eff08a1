"""What the dev tools and the operator commands share, so neither imports the other: a program's
project and stack files (`project`), their `secure:` values (`stack_secrets`), the policy config a
stack is judged by (`policy_config`), the built Pulumi toolchain (`toolchain`), the checkout root."""
