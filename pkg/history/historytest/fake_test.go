package historytest_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/history"
	"github.com/hooksentry/hooksentry/pkg/history/historytest"
)

// The Fake runs with its default retention (Retention unset).
func TestFakeConformance(t *testing.T) {
	historytest.Run(t, historytest.Harness{
		New:       func(*testing.T) historytest.Store { return historytest.NewFake() },
		Retention: historytest.DefaultRetention,
	})
}

func TestFakeAdd(t *testing.T) {
	f := historytest.NewFake()
	at := time.Date(2026, 7, 3, 14, 0, 0, 0, time.UTC)
	r := history.Record{
		EventID: event.NewID(uuid.NewString(), at), Status: history.Failed, AttemptCount: 1, ReceivedAt: at,
		ExpiresAt: at.Add(time.Hour), Body: []byte("b"),
		Attempts: []history.Attempt{{Number: 1, StartedAt: at, Error: history.ErrStatus, StatusCode: 500, ResponseBody: []byte("no")}},
	}
	f.Add(r)
	got, found, err := f.GetRecord(context.Background(), r.EventID, at)
	if err != nil || !found {
		t.Fatalf("GetRecord: found %v, err %v", found, err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Errorf("got %+v, want %+v", got, r)
	}
	if _, found, _ := f.GetRecord(context.Background(), r.EventID, at.Add(time.Hour)); found {
		t.Errorf("GetRecord at its expiry: found, want not")
	}
}
