// Package httpapi owns the HTTP face of HookSentry's management API: one
// http.Handler per route, request decoding at the edge, the destination JSON
// shape, and the single mapping from domain error codes to HTTP statuses,
// written as RFC 9457 problem+json.
package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/redact"
)

// Problem is an RFC 9457 problem details body.
type Problem struct {
	Type   string                `json:"type"`
	Title  string                `json:"title"`
	Status int                   `json:"status"`
	Detail string                `json:"detail"`
	Errors []apperror.FieldError `json:"errors,omitempty"`
}

// statusOf is the one place where domain error codes become HTTP statuses.
func statusOf(code apperror.Code) int {
	switch code {
	case apperror.Invalid:
		return http.StatusBadRequest
	case apperror.Unauthorized:
		return http.StatusUnauthorized
	case apperror.Forbidden:
		return http.StatusForbidden
	case apperror.NotFound:
		return http.StatusNotFound
	case apperror.Conflict:
		return http.StatusConflict
	case apperror.TooLarge:
		return http.StatusRequestEntityTooLarge
	default:
		return http.StatusInternalServerError
	}
}

// WriteError writes err as problem+json. Internal errors are logged with
// their cause and shown to the client only as a generic message.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	code := apperror.CodeOf(err)
	status := statusOf(code)
	p := Problem{Status: status, Title: http.StatusText(status), Type: "about:blank"}
	var e *apperror.Error
	if code != apperror.Internal && errors.As(err, &e) {
		p.Detail, p.Errors = e.Message, e.Fields
		if status == http.StatusBadRequest {
			p.Type = "https://hooksentry.dev/problems/validation"
		}
	} else {
		p.Detail = "An internal error occurred. It has been logged."
		if log != nil {
			log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", redact.String(r.URL.Path), "error", err)
		}
	}
	WriteProblem(w, p)
}

// WriteProblem writes p with its status.
func WriteProblem(w http.ResponseWriter, p Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
