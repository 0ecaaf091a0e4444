package testkit

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The secret detector of the storage scan tests: they plant unique secrets,
// then look for them in every table item, in any encoding a store might use.

// JSONEscaped is s as it appears inside a JSON string.
func JSONEscaped(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// FindEncoded reports how data contains needle: as is (any case), in hex,
// in base64 at any alignment, or after decoding all of data from base64 or
// hex. It returns "" if it does not.
func FindEncoded(data []byte, needle string) string {
	n := []byte(needle)
	lower := bytes.ToLower(data)
	if bytes.Contains(lower, bytes.ToLower(n)) {
		return "plain"
	}
	if bytes.Contains(lower, []byte(hex.EncodeToString(n))) {
		return "hex"
	}
	// If needle sits at an offset whose remainder mod 3 is k away from a
	// group boundary, the base64 of the data contains the base64 of the
	// whole 3-byte groups of needle[k:].
	for k := range 3 {
		sub := n[k:]
		sub = sub[:len(sub)/3*3]
		for name, enc := range map[string]*base64.Encoding{"base64": base64.StdEncoding, "base64url": base64.URLEncoding} {
			if e := enc.EncodeToString(sub); len(e) >= 8 && bytes.Contains(data, []byte(e)) {
				return fmt.Sprintf("%s at alignment %d", name, k)
			}
		}
	}
	for name, dec := range map[string]func(string) ([]byte, error){
		"base64-decoded":     base64.StdEncoding.DecodeString,
		"base64url-decoded":  base64.URLEncoding.DecodeString,
		"raw-base64-decoded": base64.RawStdEncoding.DecodeString,
		"hex-decoded":        hex.DecodeString,
	} {
		if d, err := dec(string(data)); err == nil && bytes.Contains(bytes.ToLower(d), bytes.ToLower(n)) {
			return name
		}
	}
	return ""
}

// ScanTable reads every item of table.
func ScanTable(t testing.TB, db *dynamodb.Client, table string) []map[string]types.AttributeValue {
	t.Helper()
	var items []map[string]types.AttributeValue
	in := &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)}
	for {
		out, err := db.Scan(context.Background(), in)
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			return items
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// WalkAttributes calls fn with the bytes of every string, binary and number
// value in item, nested ones included, and with the inflated bytes of every
// binary value that is DEFLATE-compressed (the history's bodies are).
func WalkAttributes(item map[string]types.AttributeValue, prefix string, fn func(path string, data []byte)) {
	for name, v := range item {
		walkValue(v, prefix+name, fn)
	}
	// Attribute names can carry data too.
	for name := range item {
		fn(prefix+"(name)", []byte(name))
	}
}

func walkValue(v types.AttributeValue, path string, fn func(string, []byte)) {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		fn(path, []byte(v.Value))
	case *types.AttributeValueMemberB:
		fn(path, v.Value)
		if inflated, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(v.Value)), 4<<20)); err == nil && len(inflated) > 0 {
			fn(path+"(inflated)", inflated)
		}
	case *types.AttributeValueMemberN:
		fn(path, []byte(v.Value))
	case *types.AttributeValueMemberSS:
		for i, s := range v.Value {
			fn(fmt.Sprintf("%s[%d]", path, i), []byte(s))
		}
	case *types.AttributeValueMemberBS:
		for i, b := range v.Value {
			fn(fmt.Sprintf("%s[%d]", path, i), b)
		}
	case *types.AttributeValueMemberNS:
		for i, s := range v.Value {
			fn(fmt.Sprintf("%s[%d]", path, i), []byte(s))
		}
	case *types.AttributeValueMemberL:
		for i, e := range v.Value {
			walkValue(e, fmt.Sprintf("%s[%d]", path, i), fn)
		}
	case *types.AttributeValueMemberM:
		WalkAttributes(v.Value, path+".", fn)
	}
}

// DescribeItem names an item by its keys.
func DescribeItem(item map[string]types.AttributeValue) string {
	pk, _ := item["pk"].(*types.AttributeValueMemberS)
	sk, _ := item["sk"].(*types.AttributeValueMemberS)
	if pk == nil || sk == nil {
		return "?"
	}
	return pk.Value + "/" + sk.Value
}
