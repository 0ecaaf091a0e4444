package event

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"time"
)

// Event ids are UUIDs (RFC 9562, version 8, the layout for custom data)
// that carry what a reader needs to find the event's history without an
// index: its receipt time and its route, the first 40 bits of its
// destination's id. The history of a destination lives in one partition
// named by the route, sorted by event id, that is by receipt time; a read by
// event id is one key lookup; listing is one Query. See docs/DATA_MODEL.md.
//
//	hex 0-11   receipt time, Unix ms (48 bits, so ids sort by time)
//	hex 12     '8' (version)
//	hex 13-15  random (12 bits)
//	hex 16     variant 0b10 and 2 random bits
//	hex 17-26  route: the destination id's first 10 hex digits (40 bits)
//	hex 27-31  random (20 bits)
//
// 34 random bits (the variant digit carries 2) per destination and millisecond make a collision
// negligible (at 100 events per millisecond to one destination, about one
// in 3.4 million per millisecond; at realistic rates, never).

// routeLen is the number of hex digits of a destination id in an event id.
const routeLen = 10

// NewID returns a new event id for an event of destinationID received at at.
func NewID(destinationID string, at time.Time) string {
	var t [8]byte
	binary.BigEndian.PutUint64(t[:], uint64(at.UnixMilli()))
	var r [5]byte
	_, _ = rand.Read(r[:])             // crypto/rand.Read never fails (Go 1.24+)
	random := hex.EncodeToString(r[:]) // 10 digits, 8 of them used
	variant := "89ab"[r[4]&0x03]
	h := hex.EncodeToString(t[2:]) + "8" + random[0:3] + string(variant) + Route(destinationID) + random[3:8]
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// Route is the part of a destination id that event ids carry: its first 10
// hex digits, lower case. Destination ids are UUIDs; any other id (tests
// use short names) is routed by the first 10 hex digits of its SHA-256.
func Route(destinationID string) string {
	s := strings.ToLower(strings.ReplaceAll(destinationID, "-", ""))
	if len(s) >= routeLen && isHex(s[:routeLen]) {
		return s[:routeLen]
	}
	sum := sha256.Sum256([]byte(destinationID))
	return hex.EncodeToString(sum[:])[:routeLen]
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// ID is what an event id tells about its event.
type ID struct {
	ReceivedAt time.Time // to the millisecond
	Route      string    // see Route
}

// ParseID reads an event id made by NewID; ok is false for anything else,
// including ids in another case or layout (ids are always written in lower
// case, and a reader of an id never sees another spelling of it).
func ParseID(id string) (ID, bool) {
	if len(id) != 36 || id[8] != '-' || id[13] != '-' || id[18] != '-' || id[23] != '-' || id[14] != '8' {
		return ID{}, false
	}
	h := id[0:8] + id[9:13] + id[14:18] + id[19:23] + id[24:36]
	if !isHex(h) {
		return ID{}, false
	}
	if v := h[16]; v != '8' && v != '9' && v != 'a' && v != 'b' {
		return ID{}, false
	}
	var ms [8]byte
	if _, err := hex.Decode(ms[2:], []byte(h[0:12])); err != nil {
		return ID{}, false
	}
	return ID{ReceivedAt: time.UnixMilli(int64(binary.BigEndian.Uint64(ms[:]))).UTC(), Route: h[17 : 17+routeLen]}, true
}

// IDPrefix is the prefix shared by the ids of every event received in the
// same millisecond as t: ids sort by receipt time, so a time range of
// events is a range of ids.
func IDPrefix(t time.Time) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(t.UnixMilli()))
	h := hex.EncodeToString(b[2:])
	return h[0:8] + "-" + h[8:12]
}
