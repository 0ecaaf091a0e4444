// Package jsiienv silences the jsii runtime's Node.js support warnings.
//
// The jsii kernel (a Node.js child process) starts in the init functions of
// the CDK packages and inherits the environment then: setting the variables in
// main or TestMain is too late. This package only imports os, so by the Go
// package initialization order (first eligible package by import path, Go
// 1.21+) it is initialized before os/exec and so before any jsii package.
// Import it for its side effect from the CDK app:
//
//	import _ "github.com/hooksentry/hooksentry/infra/internal/jsiienv"
//
// Values already set in the environment win.
package jsiienv

import "os"

// Silenced maps each variable to the value set when it is unset. The jsii
// runtime reads JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION as a
// comma-separated list of Node major versions (Node 20 is past its end of
// life, the machine's Node), and the other one as a flag.
var Silenced = map[string]string{
	"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
	"JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION":  "1",
}

func init() {
	for k, v := range Silenced {
		if _, ok := os.LookupEnv(k); !ok {
			os.Setenv(k, v)
		}
	}
}
