// Package openapi serves the API document (docs/openapi.yaml) as JSON. It
// converts the YAML with gopkg.in/yaml.v3, which the module already uses, so
// that the local gateway does not link an OpenAPI library for one route; the
// validator the tests use lives in openapitest.
package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/hooksentry/hooksentry/docs"
)

// LocalOnly is the path-item extension marking routes that only the local
// gateway serves (no Lambda of template.yaml answers them).
const LocalOnly = "x-hooksentry-local-only"

// JSONPath is where the local gateway serves JSON().
const JSONPath = "/api/v1/openapi.json"

var (
	once    sync.Once
	jsonDoc []byte
	jsonErr error
)

// JSON returns the document as indented JSON. The conversion is checked by
// this package's tests, so an error here means a broken build: it panics.
func JSON() []byte {
	once.Do(func() { jsonDoc, jsonErr = ToJSON(docs.OpenAPI) })
	if jsonErr != nil {
		panic(fmt.Sprintf("docs/openapi.yaml: %v", jsonErr))
	}
	return jsonDoc
}

// ToJSON converts a YAML document to JSON. Mapping keys must be strings
// (quote response codes such as "200"): JSON has no other kind.
func ToJSON(yamlDoc []byte) ([]byte, error) {
	var v any
	if err := yaml.Unmarshal(yamlDoc, &v); err != nil {
		return nil, err
	}
	v, err := jsonable(v, "")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // patterns hold < and >; keep them readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// jsonable turns yaml.v3's decoded values into ones encoding/json accepts:
// yaml.v3 yields map[string]any only when every key is a string.
func jsonable(v any, at string) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			c, err := jsonable(e, at+"/"+k)
			if err != nil {
				return nil, err
			}
			t[k] = c
		}
		return t, nil
	case map[any]any:
		return nil, fmt.Errorf("%s: a mapping key is not a string", at)
	case []any:
		for i, e := range t {
			c, err := jsonable(e, fmt.Sprintf("%s/%d", at, i))
			if err != nil {
				return nil, err
			}
			t[i] = c
		}
		return t, nil
	default:
		return v, nil
	}
}
