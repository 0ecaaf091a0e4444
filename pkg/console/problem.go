package console

import (
	"encoding/json"
	"net/http"
)

// problem is the RFC 9457 body of every 4xx of HookSentry (CONTRACT §1).
// pkg/httpapi has the same shape, but linking it would bring the store and
// the DynamoDB client into the console function.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

func writeProblem(w http.ResponseWriter, status int, title, detail string) {
	body, _ := json.Marshal(problem{Type: "about:blank", Title: title, Status: status, Detail: detail}) // only strings and an int
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
