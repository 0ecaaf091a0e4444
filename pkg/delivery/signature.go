package delivery

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"time"

	"github.com/hooksentry/hooksentry/pkg/destination"
)

// HeaderSignature carries HookSentry's signature of a delivery (CONTRACT
// §3): the Standard Webhooks scheme under HookSentry's header names, so a
// destination verifies it with any Standard Webhooks library by reading
// HookSentry-Event-Id, -Timestamp and -Signature as webhook-id, -timestamp
// and -signature.
const HeaderSignature = "HookSentry-Signature"

// Signature returns the Standard Webhooks signature v1,<base64
// HMAC-SHA256> of {eventID}.{timestamp}.{body} keyed with key (the bytes of
// a whsec_ secret after the prefix, base64-decoded).
func Signature(key []byte, eventID string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, key)
	// Written piece by piece so a 256 KiB body is not copied to be signed.
	mac.Write([]byte(eventID))
	mac.Write([]byte{'.'})
	mac.Write(strconv.AppendInt(nil, timestamp, 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	var sum [sha256.Size]byte
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(sum[:0]))
}

// signatureHeader is the HookSentry-Signature value of one attempt made at
// now: the current key's signature and, while the key a rotation replaced
// is still valid, its signature too, space-separated as Standard Webhooks
// lists several. It is empty when the destination has no signing secret
// (created before signing existed and never rotated).
func signatureHeader(keys destination.SigningKeys, eventID string, now time.Time, body []byte) string {
	if keys.Current == nil {
		return ""
	}
	ts := now.Unix()
	sig := Signature(keys.Current, eventID, ts, body)
	if keys.Previous != nil && now.Before(keys.PreviousUntil) {
		sig += " " + Signature(keys.Previous, eventID, ts, body)
	}
	return sig
}
