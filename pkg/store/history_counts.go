package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/hooksentry/hooksentry/pkg/history"
)

// Stats read counters, not records: every change of a record also adds to
// the count item of its destination and hour (H#<hourMs>#<destinationId>,
// one N attribute per status, expiresAt an hour after the hour's last
// record expires), so that stats over a week read at most 169 small items
// whatever the traffic, instead of every record of the week (a million
// records are ~90,000 read units). A batch's changes usually fall in one
// hour: one UpdateItem per batch, ~0.1 write unit per event.
//
// Hours a range covers only in part (an hour cut by from or to, or the
// hour whose records are expiring now) are counted from their records, as
// before, so the answer is exact either way. What counters cannot see: a
// record created twice (SQS delivering a message again after a crash
// between the history write and the message's settling) counts twice in
// its hour; lists and the event itself stay exact.

// countKey is one count item.
type countKey struct {
	destinationID string
	hourMs        int64
}

// countDeltas collects what a set of changes adds to the count items.
type countDeltas map[countKey]map[history.Status]int

func (d countDeltas) add(destinationID string, receivedMs int64, st history.Status, delta int) {
	if st == "" || delta == 0 {
		return
	}
	k := countKey{destinationID, time.UnixMilli(receivedMs).UTC().Truncate(time.Hour).UnixMilli()}
	if d[k] == nil {
		d[k] = map[history.Status]int{}
	}
	d[k][st] += delta
}

// move records a record going from one status to another.
func (d countDeltas) move(destinationID string, receivedMs int64, from, to history.Status) {
	if from == to {
		return
	}
	d.add(destinationID, receivedMs, from, -1)
	d.add(destinationID, receivedMs, to, 1)
}

// applyCounts adds deltas to their count items, one UpdateItem each.
func (st *Store) applyCounts(ctx context.Context, deltas countDeltas) error {
	keys := slices.SortedFunc(maps.Keys(deltas), func(a, b countKey) int {
		if a.hourMs != b.hourMs {
			return int(a.hourMs - b.hourMs)
		}
		return strings.Compare(a.destinationID, b.destinationID)
	})
	for _, k := range keys {
		var adds []string
		values := map[string]types.AttributeValue{}
		var attrs []string
		for _, status := range history.Statuses {
			if v := deltas[k][status]; v != 0 {
				attr := string(status)
				attrs = append(attrs, attr)
				adds = append(adds, "#"+attr+" :"+attr)
				values[":"+attr] = n(strconv.Itoa(v))
			}
		}
		if len(adds) == 0 {
			continue
		}
		hour := time.UnixMilli(k.hourMs).UTC()
		values[":x"] = n(st.expiresAt(hour.Add(time.Hour), time.Time{}))
		pk, sk := HourCountKey(k.destinationID, hour)
		_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 st.table(),
			Key:                       key(pk, sk),
			UpdateExpression:          aws.String("ADD " + strings.Join(adds, ", ") + " SET expiresAt = :x"),
			ExpressionAttributeNames:  names(attrs...),
			ExpressionAttributeValues: values,
		})
		if err != nil {
			return fmt.Errorf("count history of %s at %s: %w", k.destinationID, hour.Format(time.RFC3339), err)
		}
	}
	return nil
}

// statusOfOld reads the status and receipt time an UpdateItem's ALL_OLD
// answer shows.
func statusOfOld(old map[string]types.AttributeValue) (history.Status, int64, string) {
	r, _ := strconv.ParseInt(getN(old, attrReceived), 10, 64)
	return history.Status(getS(old, attrStatus)), r, getS(old, attrDest)
}

// expiryMargin covers the seconds resolution of expiresAt when deciding
// that a whole hour is live or gone.
const expiryMargin = 2 * time.Second

// CountByHour counts a destination's records received in [from, to] by
// the UTC hour of their receipt and their current status; hours without
// records are absent. Hours the range covers whole, all of whose records
// are live, come from their count items; the rest (an hour cut by from or
// to, the hour whose records are expiring, an open range) from the
// records themselves.
func (st *Store) CountByHour(ctx context.Context, destinationID string, from, to, now time.Time) (map[time.Time]map[history.Status]int, error) {
	if from.IsZero() || to.IsZero() {
		return st.countRecords(ctx, destinationID, from, to, now)
	}
	live := now.Add(-st.retention()) // records received by then are expired
	counts := map[time.Time]map[history.Status]int{}
	var whole []time.Time
	for h := from.UTC().Truncate(time.Hour); !h.After(to); h = h.Add(time.Hour) {
		end := h.Add(time.Hour - time.Millisecond)
		lo, hi := maxTime(from, h), minTime(to, end)
		// A range reaching now covers the rest of the current hour:
		// nothing was received after now.
		covered := !lo.After(h) && (!hi.Before(end) || !to.Before(now))
		switch {
		case !h.Add(time.Hour).After(live.Add(-expiryMargin)):
			continue // every record of the hour has expired
		case covered && h.After(live.Add(expiryMargin)):
			whole = append(whole, h)
		default:
			part, err := st.countRecords(ctx, destinationID, lo, hi, now)
			if err != nil {
				return nil, err
			}
			maps.Copy(counts, part)
		}
	}
	if err := st.readCounts(ctx, destinationID, whole, counts); err != nil {
		return nil, err
	}
	return counts, nil
}

// readCounts reads the count items of hours, 100 per BatchGetItem (its
// limit), eventually consistent like the lists.
func (st *Store) readCounts(ctx context.Context, destinationID string, hours []time.Time, counts map[time.Time]map[history.Status]int) error {
	for start := 0; start < len(hours); start += 100 {
		var keys []map[string]types.AttributeValue
		for _, h := range hours[start:min(start+100, len(hours))] {
			pk, sk := HourCountKey(destinationID, h)
			keys = append(keys, key(pk, sk))
		}
		pending := map[string]types.KeysAndAttributes{st.Table: {Keys: keys}}
		err := retryUnprocessed(ctx, "read history counts of "+destinationID, func() (int, error) {
			out, err := st.DB.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
			if err != nil {
				return 0, err
			}
			for _, item := range out.Responses[st.Table] {
				if err := addCounts(item, counts); err != nil {
					return 0, err
				}
			}
			pending = out.UnprocessedKeys
			return len(pending[st.Table].Keys), nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// addCounts adds a count item's numbers to counts.
func addCounts(item map[string]types.AttributeValue, counts map[time.Time]map[history.Status]int) error {
	hourMs, err := strconv.ParseInt(strings.SplitN(strings.TrimPrefix(getS(item, "sk"), skHourPrefix), "#", 2)[0], 10, 64)
	if err != nil {
		return fmt.Errorf("history count item %s: %w", getS(item, "sk"), err)
	}
	h := time.UnixMilli(hourMs).UTC()
	for _, status := range history.Statuses {
		if v, _ := strconv.Atoi(getN(item, string(status))); v > 0 {
			if counts[h] == nil {
				counts[h] = map[history.Status]int{}
			}
			counts[h][status] = v
		}
	}
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
