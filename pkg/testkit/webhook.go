package testkit

import (
	"encoding/json"
	"fmt"
	"strings"
)

// OrderWebhook returns a realistic JSON webhook of exactly size bytes: an
// order event with its seq in its ids, padded inside a description field
// with pad(n) (nil: n times "x"). The benchmarks send it; the history
// store's size test records it.
func OrderWebhook(size, seq int, pad func(n int) string) []byte {
	if pad == nil {
		pad = func(n int) string { return strings.Repeat("x", n) }
	}
	type item struct {
		SKU      string `json:"sku"`
		Name     string `json:"name"`
		Quantity int    `json:"quantity"`
		Cents    int    `json:"unit_amount"`
	}
	ev := map[string]any{
		"id":          fmt.Sprintf("evt_%024d", seq),
		"type":        "order.paid",
		"api_version": "2026-01-01",
		"created":     1767225600 + seq,
		"livemode":    true,
		"data": map[string]any{
			"object": map[string]any{
				"id": fmt.Sprintf("ord_%020d", seq), "currency": "eur", "amount_total": 12990, "status": "paid",
				"customer": map[string]any{"id": "cus_8f3a9b2c1d", "email": "jane.doe@example.com", "name": "Jane Doe",
					"address": map[string]any{"line1": "12 Rue de la Paix", "city": "Paris", "postal_code": "75002", "country": "FR"}},
				"items":       []item{{"SKU-1042", "Espresso beans 1 kg", 1, 2490}, {"SKU-2210", "Grinder burr set", 1, 10500}},
				"metadata":    map[string]string{"channel": "web", "campaign": "spring-sale"},
				"description": "",
			},
		},
	}
	raw, _ := json.Marshal(ev)
	if len(raw) > size {
		panic("webhook template larger than the requested size")
	}
	ev["data"].(map[string]any)["object"].(map[string]any)["description"] = pad(size - len(raw))
	out, _ := json.Marshal(ev)
	if len(out) != size {
		panic(fmt.Sprintf("webhook body is %d bytes, want %d", len(out), size))
	}
	return out
}
