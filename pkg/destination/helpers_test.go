package destination_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/hooksentry/hooksentry/pkg/apperror"
)

// fieldsOf returns the sorted field names of an Invalid error, and fails the
// test if err is anything else.
func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	var e *apperror.Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v (%T), want an *apperror.Error", err, err)
	}
	if e.Code != apperror.Invalid {
		t.Fatalf("got code %d (%v), want Invalid", e.Code, err)
	}
	var names []string
	for _, f := range e.Fields {
		if f.Message == "" {
			t.Errorf("field %q has an empty message", f.Field)
		}
		names = append(names, f.Field)
	}
	slices.Sort(names)
	return names
}

// sorted returns a sorted copy of names.
func sorted(names ...string) []string {
	out := slices.Clone(names)
	slices.Sort(out)
	return out
}

func wantFields(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got nil error, want Invalid with fields %v", want)
	}
	if got := fieldsOf(t, err); !slices.Equal(got, sorted(want...)) {
		t.Errorf("fields: got %v, want %v (error: %v)", got, sorted(want...), err)
	}
}

func wantCode(t *testing.T, err error, want apperror.Code) {
	t.Helper()
	if got := apperror.CodeOf(err); err == nil || got != want {
		t.Errorf("got error %v (code %d), want code %d", err, got, want)
	}
}

// longURL returns an https URL of exactly n bytes.
func longURL(n int) string {
	const prefix = "https://example.com/"
	return prefix + strings.Repeat("a", n-len(prefix))
}
