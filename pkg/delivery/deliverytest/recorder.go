package deliverytest

import (
	"context"
	"slices"
	"sync"

	"github.com/hooksentry/hooksentry/pkg/history"
)

// Recorder is an in-memory history.Recorder: it keeps every call's
// changes, in order, and fails while told to.
type Recorder struct {
	mu    sync.Mutex
	calls []RecordCall
	err   error
}

// RecordCall records one Record call: its changes, and the error it
// returned.
type RecordCall struct {
	Changes []history.Change
	Err     error
}

var _ history.Recorder = (*Recorder)(nil)

// Fail makes every later call return err (nil: succeed again).
func (r *Recorder) Fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err = err
}

func (r *Recorder) Record(_ context.Context, changes []history.Change) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, RecordCall{Changes: slices.Clone(changes), Err: r.err})
	return r.err
}

// Calls returns every Record call so far, failed ones included.
func (r *Recorder) Calls() []RecordCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// Changes returns the changes of the calls that succeeded, in order.
func (r *Recorder) Changes() []history.Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []history.Change
	for _, c := range r.calls {
		if c.Err == nil {
			out = append(out, c.Changes...)
		}
	}
	return out
}
