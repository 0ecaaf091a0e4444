package verify

import (
	"fmt"
	"time"
)

// Failure is why a request did not verify. Error() is a sentence safe to
// show the sender: it names headers and settings but never quotes the
// secret, the expected signature or the value the sender sent.
type Failure struct{ Reason string }

func (f *Failure) Error() string { return f.Reason }

func fail(format string, args ...any) *Failure {
	return &Failure{Reason: fmt.Sprintf(format, args...)}
}

func missingHeader(name string) *Failure {
	return fail("The %s header is missing.", name)
}

func headerTooLong(name string) *Failure {
	return fail("The %s header is longer than %d bytes.", name, maxHeaderValue)
}

func malformed(name string) *Failure {
	return fail("The %s header is malformed.", name)
}

func mismatch(name string) *Failure {
	return fail("The %s signature does not match the body.", name)
}

func badTimestamp(subject string) *Failure {
	return fail("The %s is not a valid Unix time.", subject)
}

func outsideTolerance(subject string, tolerance time.Duration) *Failure {
	return fail("The %s is outside the allowed %s tolerance.", subject, tolerance)
}
