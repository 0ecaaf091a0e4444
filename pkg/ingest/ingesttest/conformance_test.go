package ingesttest_test

import (
	"testing"

	"github.com/hooksentry/hooksentry/pkg/ingest/ingesttest"
)

func TestFakeClaimsConformance(t *testing.T) {
	ingesttest.RunClaimsConformance(t, &ingesttest.Claims{})
}
