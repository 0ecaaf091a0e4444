// Package docs embeds docs/openapi.yaml, the HookSentry API document, so that
// the local gateway can serve it and the tests can validate traffic against
// it. The YAML file here is the one canonical copy: go:embed cannot reach
// outside the embedding package's directory, hence a package in docs/.
package docs

import _ "embed"

// OpenAPI is docs/openapi.yaml, byte for byte.
//
//go:embed openapi.yaml
var OpenAPI []byte
