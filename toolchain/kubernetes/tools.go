//go:build tools

// Package tools keeps the packages that build.sh compiles in this module's
// go.mod/go.sum (`go mod tidy` sees them through this file only).
package tools

import (
	_ "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	_ "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
	_ "github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)
