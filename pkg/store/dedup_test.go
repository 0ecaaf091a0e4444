package store_test

import (
	"testing"

	"github.com/hooksentry/hooksentry/pkg/ingest/ingesttest"
)

func TestClaimsConformance(t *testing.T) {
	ingesttest.RunClaimsConformance(t, newStore(t))
}
