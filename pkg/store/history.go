package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/klauspost/compress/flate"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/history"
)

var (
	_ history.Recorder = (*Store)(nil)
	_ history.Store    = (*Store)(nil)
)

// The history record of an event (EVT#<route> / E#<eventId>) is written
// once per event on the success path, in a batch, so it must stay one
// write unit (≤ 1 KB) for a typical 1 KiB webhook: attribute names are
// short and the body travels compressed.
//
//	d   S  destination id        t   S  tenant id
//	st  S  status                n   N  attempts made (the last number)
//	r   N  receivedAt, Unix ms   la  N  lastAttemptAt ms (absent: none)
//	na  N  nextAttemptAt ms      da  N  deliveredAt ms (absent: none)
//	expiresAt N  Unix s, the table's TTL: receipt + retention
//	z   B  deflate of the compact JSON {ct, h}, a newline, the raw body
//	at  L  one S per attempt, oldest first (see encodeAttempt)
//	rp  N  the last replay's mark, Unix ms (absent: never replayed)
//
// The answer to a failed attempt lives in an item of its own beside the
// record (A#<eventId>#<number>: rb B, expiresAt), so the record stays small
// and only failures pay for a second write.
//
// The body is framed after a JSON header rather than inside it: as a JSON
// []byte it would be base64 (4/3 larger, and base64 compresses poorly);
// for bench's 1 KiB order event the framed form deflates to ~527 bytes,
// the all-JSON one to ~740. A future encoding takes a new attribute name.
const (
	attrDest      = "d"
	attrTenant    = "t"
	attrStatus    = "st"
	attrCount     = "n"
	attrReceived  = "r"
	attrLast      = "la"
	attrNext      = "na"
	attrDelivered = "da"
	attrContent   = "z"
	attrAttempts  = "at"
	attrResponse  = "rb"
	attrReplayed  = "rp" // the last replay's mark, Unix ms
	attrExpires   = "expiresAt"
)

// names returns ExpressionAttributeNames "#x" → x for attrs. Every short
// name goes through a placeholder: "at" is a DynamoDB reserved word, and
// the others may become one.
func names(attrs ...string) map[string]string {
	m := make(map[string]string, len(attrs))
	for _, a := range attrs {
		m["#"+a] = a
	}
	return m
}

// content is the header of the record's compressed content.
type content struct {
	ContentType string      `json:"ct,omitempty"`
	Headers     [][2]string `json:"h,omitempty"`
	Verified    string      `json:"vf,omitempty"` // the scheme the ingest request passed, for replays
	Alert       bool        `json:"al,omitempty"` // an operational event: a replay that fails raises no alert either
}

// flaters are reused: a flate.Writer allocates about 800 KB, which would
// cost more than the compression of a small body itself.
var flaters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed) // never fails for a valid level
	return w
}}

// github.com/klauspost/compress/flate, not compress/flate: the same
// DEFLATE (any inflater reads it) for about a third less CPU on small
// bodies (BenchmarkDeliveryCPU's history phase: 125 → 115 µs per event,
// the SDK's part unchanged). BestSpeed, not the default level: the default
// clears its match tables on every Reset, which for a 1 KiB body costs
// more than the compression itself; BestSpeed's output is only 1-3 %
// larger (bench's body: 527 bytes instead of 520, still one write unit).
func compressContent(c content, body []byte) ([]byte, error) {
	head, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w := flaters.Get().(*flate.Writer)
	defer flaters.Put(w)
	w.Reset(&buf)
	// JSON never holds a raw newline, so the first one ends the header.
	for _, part := range [][]byte{head, {'\n'}, body} {
		if _, err := w.Write(part); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decompressContent(z []byte) (content, []byte, error) {
	raw, err := io.ReadAll(flate.NewReader(bytes.NewReader(z)))
	if err != nil {
		return content{}, nil, err
	}
	head, body, ok := bytes.Cut(raw, []byte{'\n'})
	if !ok {
		return content{}, nil, errors.New("no header")
	}
	var c content
	if err := json.Unmarshal(head, &c); err != nil {
		return content{}, nil, err
	}
	if len(body) == 0 {
		body = nil
	}
	return c, body, nil
}

// encodeAttempt writes an attempt, without its answer, as
// "number,startedMs,durationMs,A|M,D|F,statusCode,error": one short string
// (~30 bytes) rather than a map with names (~90). A status code of 0 (no
// response) is empty.
func encodeAttempt(a history.Attempt) string {
	trigger, outcome, code := "A", "F", ""
	if a.Trigger == history.Manual {
		trigger = "M"
	}
	if a.Delivered {
		outcome = "D"
	}
	if a.StatusCode != 0 {
		code = strconv.Itoa(a.StatusCode)
	}
	return strconv.Itoa(a.Number) + "," + strconv.FormatInt(a.StartedAt.UnixMilli(), 10) + "," +
		strconv.FormatInt(a.Duration.Milliseconds(), 10) + "," + trigger + "," + outcome + "," + code + "," + a.Error
}

func decodeAttempt(v string) (history.Attempt, error) {
	f := strings.Split(v, ",")
	if len(f) != 7 || (f[3] != "A" && f[3] != "M") || (f[4] != "D" && f[4] != "F") {
		return history.Attempt{}, fmt.Errorf("attempt %q: corrupt", v)
	}
	number, err1 := strconv.Atoi(f[0])
	started, err2 := strconv.ParseInt(f[1], 10, 64)
	duration, err3 := strconv.ParseInt(f[2], 10, 64)
	code, err4 := 0, error(nil)
	if f[5] != "" {
		code, err4 = strconv.Atoi(f[5])
	}
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return history.Attempt{}, fmt.Errorf("attempt %q: %w", v, err)
	}
	a := history.Attempt{
		Number: number, StartedAt: time.UnixMilli(started).UTC(), Duration: time.Duration(duration) * time.Millisecond,
		Trigger: history.Automatic, Delivered: f[4] == "D", StatusCode: code, Error: f[6],
	}
	if f[3] == "M" {
		a.Trigger = history.Manual
	}
	return a, nil
}

// recordFields are what a change sets on a record, derived once for both
// the put and the update path.
type recordFields struct {
	count                 int
	last, next, delivered time.Time
}

func fieldsOf(c history.Change) recordFields {
	f := recordFields{count: c.Event.Prior + c.Event.Attempts, delivered: c.DeliveredAt}
	if c.Attempt != nil {
		f.count, f.last = c.Attempt.Number, c.Attempt.StartedAt
	}
	if c.Status == history.Pending {
		f.next = c.NextAttemptAt
	}
	return f
}

// historyExpiresAt is the TTL of an event's history: the retention counted
// from its receipt (CONTRACT §5: readable until then).
func (st *Store) historyExpiresAt(c history.Change) string {
	return historyExpiry(time.UnixMilli(c.Event.ReceivedAt), st.retention())
}

// historyExpiry is when a record received at received expires, in Unix
// seconds rounded up, so that it is never hidden before its retention is
// over.
func historyExpiry(received time.Time, retention time.Duration) string {
	t := received.Add(retention)
	sec := t.Unix()
	if t.After(time.Unix(sec, 0)) {
		sec++
	}
	return strconv.FormatInt(sec, 10)
}

func (st *Store) maxScanned() int {
	if st.MaxScanned > 0 {
		return st.MaxScanned
	}
	return MaxScanned
}

func (st *Store) retention() time.Duration {
	if st.Retention > 0 {
		return st.Retention
	}
	return DefaultRetention
}

// recordItem is the full record a change creates, body and headers
// included.
func (st *Store) recordItem(c history.Change, pk, sk string) (map[string]types.AttributeValue, error) {
	m := c.Event
	z, err := compressContent(content{ContentType: m.ContentType, Headers: m.Headers, Verified: m.Verified, Alert: m.Alert}, m.Body)
	if err != nil {
		return nil, fmt.Errorf("compress event %s: %w", m.EventID, err)
	}
	f := fieldsOf(c)
	item := key(pk, sk)
	item[attrDest] = s(m.DestinationID)
	item[attrTenant] = s(m.TenantID)
	item[attrStatus] = s(string(c.Status))
	item[attrCount] = n(strconv.Itoa(f.count))
	item[attrReceived] = n(strconv.FormatInt(m.ReceivedAt, 10))
	item[attrExpires] = n(st.historyExpiresAt(c))
	item[attrContent] = b(z)
	attempts := []types.AttributeValue{}
	if c.Attempt != nil {
		attempts = append(attempts, s(encodeAttempt(*c.Attempt)))
	}
	item[attrAttempts] = &types.AttributeValueMemberL{Value: attempts}
	for name, t := range map[string]time.Time{attrLast: f.last, attrNext: f.next, attrDelivered: f.delivered} {
		if !t.IsZero() {
			item[name] = n(ms(t))
		}
	}
	return item, nil
}

// responseItem is the kept answer to a change's attempt, or nil when the
// attempt succeeded or got no answer.
func (st *Store) responseItem(c history.Change) map[string]types.AttributeValue {
	a := c.Attempt
	if a == nil || a.Delivered || len(a.ResponseBody) == 0 {
		return nil
	}
	pk, sk, ok := AttemptResponseKey(c.Event.EventID, a.Number)
	if !ok {
		return nil
	}
	item := key(pk, sk)
	item[attrResponse] = b(a.ResponseBody[:min(len(a.ResponseBody), history.MaxResponseBody)])
	item[attrExpires] = n(st.historyExpiresAt(c))
	return item
}

// puts collects items for BatchWriteItem, which refuses two requests for
// one key: a later item for a key replaces the earlier one.
type puts struct {
	items []map[string]types.AttributeValue
	index map[[2]string]int
}

func (p *puts) add(item map[string]types.AttributeValue) {
	k := [2]string{getS(item, "pk"), getS(item, "sk")}
	if i, ok := p.index[k]; ok {
		p.items[i] = item
		return
	}
	if p.index == nil {
		p.index = map[[2]string]int{}
	}
	p.index[k] = len(p.items)
	p.items = append(p.items, item)
}

// Record makes a batch of changes: records created now are put, with the
// answers to their failed attempts, in BatchWriteItem requests of 25 (the
// usual case, one write per event); changes of existing records are
// updated one by one after them (the rarer retry path), so a record created
// and changed in one batch gets both. Changes of records that expired or
// were removed meanwhile are skipped; so are events whose ids carry no
// route (accepted before ids did), which no reader could find.
func (st *Store) Record(ctx context.Context, changes []history.Change) (err error) {
	deltas := countDeltas{}
	defer func() {
		// The counts follow what was written, also when a later write
		// failed: the changes that did apply are counted.
		if cerr := st.applyCounts(ctx, deltas); cerr != nil && err == nil {
			err = fmt.Errorf("record history: %w", cerr)
		}
	}()
	var created puts
	var updates, maybes []history.Change
	createdStatus := map[string]history.Change{} // by sk: the last change of a record created now
	for _, c := range changes {
		pk, sk, ok := EventRecordKey(c.Event.EventID)
		if !ok {
			continue
		}
		if c.Event.Recorded {
			updates = append(updates, c)
			continue
		}
		if c.MayExist {
			maybes = append(maybes, c)
			continue
		}
		item, err := st.recordItem(c, pk, sk)
		if err != nil {
			return err
		}
		created.add(item)
		createdStatus[sk] = c
		if r := st.responseItem(c); r != nil {
			created.add(r)
		}
	}
	if err := st.batchPut(ctx, created.items); err != nil {
		return fmt.Errorf("record history: %w", err)
	}
	for _, c := range createdStatus {
		deltas.add(c.Event.DestinationID, c.Event.ReceivedAt, c.Status, 1)
	}
	// Answers of updated records are put once their update applied: an
	// answer of a record that is gone would only wait for its TTL.
	var answers puts
	for _, c := range maybes {
		created, applied, old, err := st.createOrUpdate(ctx, c)
		if err != nil {
			return fmt.Errorf("record history: %w", err)
		}
		if r := st.responseItem(c); (created || applied) && r != nil {
			answers.add(r)
		}
		switch {
		case created:
			deltas.add(c.Event.DestinationID, c.Event.ReceivedAt, c.Status, 1)
		case applied:
			deltas.move(c.Event.DestinationID, c.Event.ReceivedAt, old, c.Status)
		}
	}
	for _, c := range updates {
		applied, old, err := st.updateRecord(ctx, c)
		if err != nil {
			return fmt.Errorf("record history: %w", err)
		}
		if r := st.responseItem(c); applied && r != nil {
			answers.add(r)
		}
		if applied {
			deltas.move(c.Event.DestinationID, c.Event.ReceivedAt, old, c.Status)
		}
	}
	if err := st.batchPut(ctx, answers.items); err != nil {
		return fmt.Errorf("record history: %w", err)
	}
	return nil
}

// createOrUpdate creates a record only if there is none (a conditional
// PutItem, not a batch put: the message may have been handled before), and
// otherwise changes the record like an update.
func (st *Store) createOrUpdate(ctx context.Context, c history.Change) (created, applied bool, old history.Status, err error) {
	pk, sk, _ := EventRecordKey(c.Event.EventID)
	item, err := st.recordItem(c, pk, sk)
	if err != nil {
		return false, false, "", err
	}
	_, err = st.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: st.table(), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	switch {
	case err == nil:
		return true, false, "", nil
	case !isConditionFailed(err):
		return false, false, "", fmt.Errorf("create record of %s: %w", c.Event.EventID, err)
	}
	applied, old, err = st.updateRecord(ctx, c)
	return false, applied, old, err
}

// updateRecord changes an existing record; applied is false when there is
// none, or when it has the change's attempt already (the same message
// handled twice: SQS delivers at least once), so a change is never applied
// twice.
func (st *Store) updateRecord(ctx context.Context, c history.Change) (applied bool, old history.Status, err error) {
	pk, sk, _ := EventRecordKey(c.Event.EventID)
	f := fieldsOf(c)
	set := []string{"#st = :st"}
	var remove, add []string
	attrs := []string{attrStatus}
	values := map[string]types.AttributeValue{":st": s(string(c.Status))}
	cond := "attribute_exists(pk)"
	if c.Attempt != nil {
		// An attempt counts once: the same change applied twice (a message
		// handled twice) has the record's last start and is skipped; an
		// attempt made again (a redelivered message's) starts later and is
		// recorded, as the destination got it.
		set = append(set, "#la = :la", "#at = list_append(if_not_exists(#at, :empty), :a)")
		add = append(add, "#n :one")
		attrs = append(attrs, attrLast, attrAttempts, attrCount)
		values[":la"] = n(ms(f.last))
		values[":one"] = n("1")
		values[":empty"] = &types.AttributeValueMemberL{Value: []types.AttributeValue{}}
		values[":a"] = &types.AttributeValueMemberL{Value: []types.AttributeValue{s(encodeAttempt(*c.Attempt))}}
		cond += " AND (attribute_not_exists(#la) OR #la < :la)"
	}
	for _, opt := range []struct {
		attr, value string
		t           time.Time
	}{{attrNext, ":na", f.next}, {attrDelivered, ":da", f.delivered}} {
		if opt.t.IsZero() {
			// deliveredAt stays the last delivery's (a replay's failed
			// attempt does not undo it); nextAttemptAt goes.
			if opt.attr == attrNext {
				attrs = append(attrs, opt.attr)
				remove = append(remove, "#"+opt.attr)
			}
			continue
		}
		attrs = append(attrs, opt.attr)
		set = append(set, "#"+opt.attr+" = "+opt.value)
		values[opt.value] = n(ms(opt.t))
	}
	expr := "SET " + strings.Join(set, ", ")
	if len(remove) > 0 {
		expr += " REMOVE " + strings.Join(remove, ", ")
	}
	if len(add) > 0 {
		expr += " ADD " + strings.Join(add, ", ")
	}
	out, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 st.table(),
		Key:                       key(pk, sk),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  names(attrs...),
		ExpressionAttributeValues: values,
		ReturnValues:              types.ReturnValueUpdatedOld, // the old status, for the hour's counts
	})
	if isConditionFailed(err) {
		return false, "", nil
	}
	if err != nil {
		return false, "", fmt.Errorf("update record of %s: %w", c.Event.EventID, err)
	}
	return true, history.Status(getS(out.Attributes, attrStatus)), nil
}

// Batch requests retry the items DynamoDB left unprocessed (throttling) a
// few times with a growing pause, then give up with an error: the deliver
// function's batch fails and is retried as a whole.
const (
	batchTries     = 5
	batchFirstWait = 25 * time.Millisecond
)

// retryUnprocessed makes a batch request with call until it leaves nothing
// unprocessed, at most batchTries times, pausing longer each time.
func retryUnprocessed(ctx context.Context, what string, call func() (left int, err error)) error {
	for try := 1; ; try++ {
		left, err := call()
		switch {
		case err != nil:
			return fmt.Errorf("%s: %w", what, err)
		case left == 0:
			return nil
		case try == batchTries:
			return fmt.Errorf("%s: %d items still unprocessed after %d tries", what, left, try)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", what, ctx.Err())
		case <-time.After(batchFirstWait << (try - 1)):
		}
	}
}

// batchWrite sends reqs 25 per BatchWriteItem (its limit).
func (st *Store) batchWrite(ctx context.Context, what string, reqs []types.WriteRequest) error {
	for start := 0; start < len(reqs); start += 25 {
		pending := map[string][]types.WriteRequest{st.Table: reqs[start:min(start+25, len(reqs))]}
		err := retryUnprocessed(ctx, what, func() (int, error) {
			out, err := st.DB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return 0, err
			}
			pending = out.UnprocessedItems
			return len(pending[st.Table]), nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// batchPut puts items with BatchWriteItem.
func (st *Store) batchPut(ctx context.Context, items []map[string]types.AttributeValue) error {
	reqs := make([]types.WriteRequest, len(items))
	for i, item := range items {
		reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: item}}
	}
	return st.batchWrite(ctx, "batch write", reqs)
}

// GetRecord reads an event's record, strongly consistent (an accepted
// event is readable within 5 s, CONTRACT §5), and, when an attempt
// failed, the answers kept beside it.
func (st *Store) GetRecord(ctx context.Context, eventID string, now time.Time) (history.Record, bool, error) {
	pk, sk, ok := EventRecordKey(eventID)
	if !ok {
		return history.Record{}, false, nil
	}
	out, err := st.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: st.table(), Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return history.Record{}, false, fmt.Errorf("get record of %s: %w", eventID, err)
	}
	if len(out.Item) == 0 {
		return history.Record{}, false, nil
	}
	r, err := decodeRecord(out.Item)
	if err != nil {
		return history.Record{}, false, err
	}
	if !r.ExpiresAt.After(now) {
		return history.Record{}, false, nil
	}
	c, body, err := decompressContent(getB(out.Item, attrContent))
	if err != nil {
		return history.Record{}, false, fmt.Errorf("record of %s: content: %w", eventID, err)
	}
	r.ContentType, r.Headers, r.Body, r.Verified, r.Alert = c.ContentType, c.Headers, body, c.Verified, c.Alert
	list, _ := out.Item[attrAttempts].(*types.AttributeValueMemberL)
	failed := false
	if list != nil {
		for _, v := range list.Value {
			sv, _ := v.(*types.AttributeValueMemberS)
			if sv == nil {
				return history.Record{}, false, fmt.Errorf("record of %s: attempt is not a string", eventID)
			}
			a, err := decodeAttempt(sv.Value)
			if err != nil {
				return history.Record{}, false, fmt.Errorf("record of %s: %w", eventID, err)
			}
			failed = failed || !a.Delivered
			r.Attempts = append(r.Attempts, a)
		}
	}
	if failed {
		if err := st.attachResponses(ctx, &r); err != nil {
			return history.Record{}, false, err
		}
	}
	return r, true, nil
}

// attachResponses reads the kept answers of r's attempts (one Query) and
// gives each to its failed attempt.
func (st *Store) attachResponses(ctx context.Context, r *history.Record) error {
	pk, prefix, _ := AttemptResponsesPrefix(r.EventID)
	in := &dynamodb.QueryInput{
		TableName:                 st.table(),
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(pk), ":p": s(prefix)},
		ConsistentRead:            aws.Bool(true),
	}
	bodies := map[int][]byte{}
	for {
		out, err := st.DB.Query(ctx, in)
		if err != nil {
			return fmt.Errorf("query attempt answers of %s: %w", r.EventID, err)
		}
		for _, item := range out.Items {
			if num, ok := AttemptNumberOfResponseKey(getS(item, "sk")); ok {
				bodies[num] = getB(item, attrResponse)
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	for i, a := range r.Attempts {
		if !a.Delivered {
			r.Attempts[i].ResponseBody = bodies[a.Number]
		}
	}
	return nil
}

// decodeRecord reads a record's summary attributes.
func decodeRecord(item map[string]types.AttributeValue) (history.Record, error) {
	id, ok := EventIDOfRecordKey(getS(item, "sk"))
	if !ok {
		return history.Record{}, fmt.Errorf("decode record %q: not a record key", getS(item, "sk"))
	}
	var errs []error
	num := func(name string) int64 {
		if _, ok := item[name]; !ok {
			return 0
		}
		v, err := strconv.ParseInt(getN(item, name), 10, 64)
		errs = append(errs, err)
		return v
	}
	at := func(name string) time.Time {
		if v := num(name); v != 0 {
			return time.UnixMilli(v).UTC()
		}
		return time.Time{}
	}
	r := history.Record{
		EventID:       id,
		DestinationID: getS(item, attrDest),
		TenantID:      getS(item, attrTenant),
		Status:        history.Status(getS(item, attrStatus)),
		AttemptCount:  int(num(attrCount)),
		ReceivedAt:    time.UnixMilli(num(attrReceived)).UTC(),
		LastAttemptAt: at(attrLast),
		NextAttemptAt: at(attrNext),
		DeliveredAt:   at(attrDelivered),
		ExpiresAt:     time.Unix(num(attrExpires), 0).UTC(),
		ReplayedAt:    at(attrReplayed),
	}
	if err := errors.Join(errs...); err != nil {
		return history.Record{}, fmt.Errorf("decode record %s: %w", id, err)
	}
	return r, nil
}

// rangeQuery is the Query of a destination's records received in
// [from, to] that have not expired by now (and have status, when set):
// the key range of EventRecordRange, filtered on the destination, since
// another destination may share the route. Lists and counts read
// eventually consistent (half the price; a record may take a moment to
// appear), unlike GetRecord.
func (st *Store) rangeQuery(destinationID string, status history.Status, from, to, now time.Time, projection []string) (*dynamodb.QueryInput, bool) {
	pk, lo, hi, ok := EventRecordRange(destinationID, from, to)
	if !ok {
		return nil, false
	}
	filter := "#d = :d AND expiresAt > :now"
	attrs := append([]string{attrDest}, projection...)
	values := map[string]types.AttributeValue{
		":pk": s(pk), ":lo": s(lo), ":hi": s(hi), ":d": s(destinationID), ":now": n(strconv.FormatInt(now.Unix(), 10)),
	}
	if status != "" {
		filter += " AND #st = :st"
		values[":st"] = s(string(status))
		attrs = append(attrs, attrStatus)
	}
	proj := make([]string, len(projection))
	for i, a := range projection {
		proj[i] = "#" + a
	}
	return &dynamodb.QueryInput{
		TableName:                 st.table(),
		KeyConditionExpression:    aws.String("pk = :pk AND sk BETWEEN :lo AND :hi"),
		FilterExpression:          aws.String(filter),
		ProjectionExpression:      aws.String("sk, expiresAt, " + strings.Join(proj, ", ")),
		ExpressionAttributeNames:  names(attrs...),
		ExpressionAttributeValues: values,
	}, true
}

// MaxScanned bounds how many records one list, count or bulk replay
// reads (matches or not: a status filter reads every record of the range).
// 50,000 records of ~0.75 KB are ~4,600 read units and a few seconds of
// Query pages; a request that would read more is refused with a 400 that
// says to narrow it, rather than time out.
const MaxScanned = 50000

// scanRange pages through a range Query, handing each match to visit
// until visit returns false or the range ends.
func (st *Store) scanRange(ctx context.Context, in *dynamodb.QueryInput, visit func(map[string]types.AttributeValue) (bool, error)) error {
	scanned := 0
	for {
		out, err := st.DB.Query(ctx, in)
		if err != nil {
			return fmt.Errorf("query records: %w", err)
		}
		if scanned += int(out.ScannedCount); scanned > st.maxScanned() {
			return apperror.New(apperror.Invalid, "This request would read more than %d events; narrow it with from and to.", st.maxScanned())
		}
		for _, item := range out.Items {
			more, err := visit(item)
			if err != nil || !more {
				return err
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// summaryAttrs are what a list shows: everything but content and attempts.
var summaryAttrs = []string{attrDest, attrTenant, attrStatus, attrCount, attrReceived, attrLast, attrNext, attrDelivered, attrReplayed}

// ListRecords reads matches in receipt order until it has the page and
// CountLimit+1 of them (to know whether the count is capped) or the range
// ends; only the page's items are decoded. A CountLimit of 0 or less counts
// every match. The read costs the whole items of every match read (a
// projection does not reduce it): narrow with From/To.
func (st *Store) ListRecords(ctx context.Context, q history.Query) (history.Page, error) {
	in, ok := st.rangeQuery(q.DestinationID, q.Status, q.From, q.To, q.Now, summaryAttrs)
	if !ok {
		return history.Page{}, nil
	}
	in.ScanIndexForward = aws.Bool(!q.Descending)
	if !q.NotReplayedSince.IsZero() {
		*in.FilterExpression += " AND (attribute_not_exists(#rp) OR #rp < :since)"
		in.ExpressionAttributeValues[":since"] = n(ms(q.NotReplayedSince))
	}
	offset, limit := max(q.Offset, 0), max(q.Limit, 0)
	var page history.Page
	matches := 0
	err := st.scanRange(ctx, in, func(item map[string]types.AttributeValue) (bool, error) {
		if matches >= offset && matches < offset+limit {
			r, err := decodeRecord(item)
			if err != nil {
				return false, err
			}
			page.Items = append(page.Items, r)
		}
		matches++
		capped := q.CountLimit > 0 && matches > q.CountLimit
		return !capped || matches < offset+limit, nil
	})
	if err != nil {
		return history.Page{}, fmt.Errorf("list records of %s: %w", q.DestinationID, err)
	}
	page.Total = matches
	if q.CountLimit > 0 && matches > q.CountLimit {
		page.Total, page.TotalCapped = q.CountLimit, true
	}
	return page, nil
}

// countRecords counts a destination's records received in [from, to] by
// the UTC hour of their receipt and their current status, reading every
// one of them (see CountByHour).
func (st *Store) countRecords(ctx context.Context, destinationID string, from, to, now time.Time) (map[time.Time]map[history.Status]int, error) {
	counts := map[time.Time]map[history.Status]int{}
	in, ok := st.rangeQuery(destinationID, "", from, to, now, []string{attrReceived, attrStatus})
	if !ok {
		return counts, nil
	}
	err := st.scanRange(ctx, in, func(item map[string]types.AttributeValue) (bool, error) {
		received, err := strconv.ParseInt(getN(item, attrReceived), 10, 64)
		if err != nil {
			return false, fmt.Errorf("record %s: receivedAt: %w", getS(item, "sk"), err)
		}
		hour := time.UnixMilli(received).UTC().Truncate(time.Hour)
		if counts[hour] == nil {
			counts[hour] = map[history.Status]int{}
		}
		counts[hour][history.Status(getS(item, attrStatus))]++
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("count records of %s: %w", destinationID, err)
	}
	return counts, nil
}

// MarkReplayed makes a record Pending for a replay, in one conditional
// write; only when the condition fails does it read the record, to tell
// the caller why.
func (st *Store) MarkReplayed(ctx context.Context, eventID string, now time.Time) error {
	pk, sk, ok := EventRecordKey(eventID)
	if !ok {
		return apperror.New(apperror.NotFound, "Event %q was not found.", eventID)
	}
	out, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        st.table(),
		Key:              key(pk, sk),
		UpdateExpression: aws.String("SET #st = :pending, #rp = :rp REMOVE #na"),
		// Pending is a Conflict, unless a replay left it so without an
		// attempt since, StaleReplay ago (its message was never sent).
		ConditionExpression: aws.String("attribute_exists(pk) AND expiresAt > :now AND (#st <> :pending OR " +
			"(#rp < :stale AND (attribute_not_exists(#la) OR #la < #rp)))"),
		ExpressionAttributeNames: names(attrStatus, attrNext, attrReplayed, attrLast),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pending": s(string(history.Pending)), ":now": n(strconv.FormatInt(now.Unix(), 10)),
			":rp": n(ms(now)), ":stale": n(ms(now.Add(-history.StaleReplay))),
		},
		ReturnValues: types.ReturnValueAllOld, // status, destination and receipt, for the hour's counts
	})
	if err == nil {
		old, received, dest := statusOfOld(out.Attributes)
		deltas := countDeltas{}
		deltas.move(dest, received, old, history.Pending)
		return st.applyCounts(ctx, deltas)
	}
	if !isConditionFailed(err) {
		return fmt.Errorf("mark event %s replayed: %w", eventID, err)
	}
	got, err := st.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: st.table(), Key: key(pk, sk), ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String("#st, expiresAt"), ExpressionAttributeNames: names(attrStatus),
	})
	if err != nil {
		return fmt.Errorf("mark event %s replayed: %w", eventID, err)
	}
	expires, _ := strconv.ParseInt(getN(got.Item, attrExpires), 10, 64)
	if len(got.Item) == 0 || expires <= now.Unix() {
		return apperror.New(apperror.NotFound, "Event %q was not found.", eventID)
	}
	if getS(got.Item, attrStatus) == string(history.Pending) {
		return apperror.New(apperror.Conflict, "Event %q is already pending delivery.", eventID)
	}
	// The record changed between the write and the read (another replay
	// finished at once): the caller may retry.
	return apperror.New(apperror.Conflict, "Event %q changed meanwhile; try again.", eventID)
}

// UnmarkReplayed gives a record back status, if it is still Pending from
// the replay; otherwise (gone, or changed by a delivery since) it leaves
// it alone.
func (st *Store) UnmarkReplayed(ctx context.Context, eventID string, status history.Status) error {
	pk, sk, ok := EventRecordKey(eventID)
	if !ok {
		return nil
	}
	out, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                st.table(),
		Key:                      key(pk, sk),
		UpdateExpression:         aws.String("SET #st = :st"),
		ConditionExpression:      aws.String("#st = :pending"),
		ExpressionAttributeNames: names(attrStatus),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":st": s(string(status)), ":pending": s(string(history.Pending)),
		},
		ReturnValues: types.ReturnValueAllOld,
	})
	switch {
	case isConditionFailed(err):
		return nil
	case err != nil:
		return fmt.Errorf("unmark replay of event %s: %w", eventID, err)
	}
	old, received, dest := statusOfOld(out.Attributes)
	deltas := countDeltas{}
	deltas.move(dest, received, old, status)
	return st.applyCounts(ctx, deltas)
}
