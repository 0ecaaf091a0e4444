// Package apperror owns HookSentry's domain error vocabulary: a small set of
// codes that domain packages return and that the HTTP edge maps to statuses
// in exactly one place (package httpapi). Domain code never picks an HTTP
// status itself, and internal causes never leak into client-facing messages.
package apperror

import (
	"errors"
	"fmt"
	"strings"
)

// Code classifies an error for callers. Internal is the zero value so that an
// unclassified error is never mistaken for a client mistake.
type Code int

const (
	Internal     Code = iota // a bug or an unavailable dependency
	Invalid                  // the input is malformed or breaks a rule
	Unauthorized             // missing, unknown or replaced credentials (ingest tokens)
	Forbidden                // the resource belongs to another tenant
	NotFound                 // the resource or tenant does not exist
	Conflict                 // a concurrent change won; retrying may succeed
	TooLarge                 // the request body exceeds a limit
)

// FieldError describes one invalid field of a request body or query string.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is a classified, client-safe error. Message is shown to clients;
// Err (if any) is for logs only.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
	Err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Message)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// New returns a classified error with a client-safe message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Validation returns an Invalid error listing every field problem at once, so
// that a client can fix a request in one round trip.
func Validation(fields ...FieldError) *Error {
	return &Error{Code: Invalid, Message: "The request is invalid.", Fields: fields}
}

// CodeOf returns the code of the first *Error in err's chain, or Internal.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Fields collects field errors while validating a request.
type Fields []FieldError

// Add records a problem with field.
func (f *Fields) Add(field, format string, args ...any) {
	*f = append(*f, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns a Validation error if any problem was recorded, else nil.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return Validation(f...)
}
