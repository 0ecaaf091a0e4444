package metrics

import (
	"io"
	"sync"
	"time"
)

// FlushInterval is the longest an ingest count waits in memory while
// requests keep coming: one line per 10 s instead of one per request keeps
// the log volume (billed per GB) small on a busy function.
const FlushInterval = 10 * time.Second

// flushCount is how many ingest requests one line may aggregate.
const flushCount = 1000

// Sink writes HookSentry's metrics as EMF lines on one writer. It is safe
// for concurrent use (the local stack serves requests concurrently).
type Sink struct {
	w           io.Writer
	environment string
	now         func() time.Time

	mu       sync.Mutex
	ingest   map[IngestOutcome]int
	pending  int
	lastLine time.Time // zero: no line yet, so the first request writes one
}

// New returns a Sink writing to w (os.Stdout in Lambda, where stdout goes
// to the function's log group) with the Environment dimension environment;
// now is the clock, time.Now when nil.
func New(w io.Writer, environment string, now func() time.Time) *Sink {
	if now == nil {
		now = time.Now
	}
	return &Sink{w: w, environment: environment, now: now, ingest: map[IngestOutcome]int{}}
}

// IngestOutcome is what became of one ingest request.
type IngestOutcome string

const (
	IngestAccepted   IngestOutcome = "accepted"   // 202, a new event
	IngestDuplicate  IngestOutcome = "duplicate"  // 202, answered with an earlier event (deduplication)
	IngestUnverified IngestOutcome = "unverified" // 401: signature did not verify
	IngestRefused    IngestOutcome = "refused"    // any other 4xx (token, size, body)
	IngestError      IngestOutcome = "error"      // 5xx: a dependency failed; the sender retries
)

// ingestMetrics names each outcome's metric, in line order.
var ingestMetrics = []struct {
	outcome IngestOutcome
	name    string
}{
	{IngestAccepted, MetricIngestAccepted},
	{IngestDuplicate, MetricIngestDuplicates},
	{IngestUnverified, MetricIngestUnverified},
	{IngestRefused, MetricIngestRefused},
	{IngestError, MetricIngestErrors},
}

// Ingest counts one request. Counts are aggregated in memory and written
// as one line when at least FlushInterval passed since the last line or
// 1,000 requests were counted, on the calling goroutine: Lambda runs no
// code between invocations, so a timer could not flush. Counts of a
// function that receives no further request before Lambda reclaims it are
// lost: at most those of its last 10 s.
func (s *Sink) Ingest(o IngestOutcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ingest[o]++
	s.pending++
	now := s.now()
	if s.pending >= flushCount || now.Sub(s.lastLine) >= FlushInterval {
		s.flushLocked(now)
	}
}

// Flush writes pending ingest counts now (tests, the local stack on
// shutdown).
func (s *Sink) Flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushLocked(s.now())
}

func (s *Sink) flushLocked(now time.Time) {
	var values []value
	for _, m := range ingestMetrics {
		if n := s.ingest[m.outcome]; n > 0 {
			values = append(values, value{m.name, n})
		}
	}
	writeLine(s.w, s.environment, now, values)
	clear(s.ingest)
	s.pending = 0
	if len(values) > 0 {
		s.lastLine = now
	}
}
