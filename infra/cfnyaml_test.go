package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// CloudFormation YAML: the short-form intrinsic tags (!Ref, !GetAtt, !Sub, ...)
// are turned into their JSON long forms ({"Ref": ...}, {"Fn::GetAtt": [...]}),
// so that template.yaml compares with the JSON that CDK synthesizes.

// loadCfnYAML reads a CloudFormation/SAM YAML template into plain Go values.
func loadCfnYAML(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseCfnYAML(data)
}

func parseCfnYAML(data []byte) (map[string]any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, fmt.Errorf("want one YAML document")
	}
	v, err := cfnNode(doc.Content[0])
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("template is not a mapping")
	}
	return m, nil
}

// cfnNode converts one YAML node.
func cfnNode(n *yaml.Node) (any, error) {
	if n.Kind == yaml.AliasNode {
		return nil, fmt.Errorf("line %d: YAML aliases are not supported by CloudFormation", n.Line)
	}
	tag := n.Tag
	if strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!") {
		return cfnIntrinsic(n)
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: mapping key is not a scalar", k.Line)
			}
			if _, dup := m[k.Value]; dup {
				return nil, fmt.Errorf("line %d: duplicate key %q", k.Line, k.Value)
			}
			v, err := cfnNode(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[k.Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := cfnNode(c)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return v, nil
	default:
		return nil, fmt.Errorf("line %d: unexpected YAML node kind %v", n.Line, n.Kind)
	}
}

// cfnIntrinsic converts a node with a short-form intrinsic tag.
func cfnIntrinsic(n *yaml.Node) (any, error) {
	name := strings.TrimPrefix(n.Tag, "!")
	// Decode the node without its tag.
	plain := *n
	plain.Tag = ""
	if n.Kind == yaml.ScalarNode {
		plain.Tag = "!!str"
	}
	arg, err := cfnNode(&plain)
	if err != nil {
		return nil, err
	}
	switch name {
	case "Ref", "Condition":
		return map[string]any{name: arg}, nil
	case "GetAtt":
		// !GetAtt Resource.Attribute (scalar) or !GetAtt [Resource, Attribute].
		if s, ok := arg.(string); ok {
			res, attr, found := strings.Cut(s, ".")
			if !found {
				return nil, fmt.Errorf("line %d: !GetAtt %q needs Resource.Attribute", n.Line, s)
			}
			return map[string]any{"Fn::GetAtt": []any{res, attr}}, nil
		}
		return map[string]any{"Fn::GetAtt": arg}, nil
	case "Base64", "Cidr", "FindInMap", "GetAZs", "ImportValue", "Join", "Select", "Split", "Sub",
		"Transform", "And", "Equals", "If", "Not", "Or", "Contains", "EachMemberEquals",
		"EachMemberIn", "RefAll", "ValueOf", "ValueOfAll", "Length", "ToJsonString", "ForEach":
		return map[string]any{"Fn::" + name: arg}, nil
	default:
		return nil, fmt.Errorf("line %d: unknown CloudFormation tag !%s", n.Line, name)
	}
}

func TestCfnYAMLConverter(t *testing.T) {
	src := `
A: !Ref Foo
B: !GetAtt Table.Arn
C: !Sub "${Table.Arn}/index/*"
D: !If [IsProd, true, false]
E: !Not [!Equals [!Ref X, ""]]
F: !GetAtt [Q, QueueName]
G: "false"
H: 360
I: !Condition Other
J: !Sub
  - "${A}-x"
  - A: !Ref B
`
	got, err := parseCfnYAML([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"A": map[string]any{"Ref": "Foo"},
		"B": map[string]any{"Fn::GetAtt": []any{"Table", "Arn"}},
		"C": map[string]any{"Fn::Sub": "${Table.Arn}/index/*"},
		"D": map[string]any{"Fn::If": []any{"IsProd", true, false}},
		"E": map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "X"}, ""}}}},
		"F": map[string]any{"Fn::GetAtt": []any{"Q", "QueueName"}},
		"G": "false",
		"H": 360,
		"I": map[string]any{"Condition": "Other"},
		"J": map[string]any{"Fn::Sub": []any{"${A}-x", map[string]any{"A": map[string]any{"Ref": "B"}}}},
	}
	if g, w := canonicalJSON(got), canonicalJSON(want); g != w {
		t.Errorf("got  %s\nwant %s", g, w)
	}
	if _, err := parseCfnYAML([]byte("A: !Bogus x\n")); err == nil {
		t.Error("unknown tag: want an error")
	}
	if _, err := parseCfnYAML([]byte("A: 1\nA: 2\n")); err == nil {
		t.Error("duplicate key: want an error")
	}
}
