package stack

import (
	"github.com/hooksentry/hooksentry/pkg/console"
	"github.com/hooksentry/hooksentry/pkg/local/devauth"
)

// ConsolePaths are the console function's GET routes (template.yaml): an
// HTTP API route path cannot end with "/", so /console (which redirects)
// and /console/{proxy+}, whose greedy variable the local gateway lets match
// the empty rest of /console/ (the page itself).
var ConsolePaths = []string{console.Prefix, console.Root + "{proxy+}"}

// ConsoleSettings point the console's sign-in at the local issuer's
// authorization server on the gateway (CONTRACT §7).
func ConsoleSettings(auth *devauth.AuthServer) map[string]string {
	return map[string]string{
		"HOOKSENTRY_CONSOLE_AUTHORIZE_URL": auth.AuthorizeURL(),
		"HOOKSENTRY_CONSOLE_TOKEN_URL":     auth.TokenURL(),
		"HOOKSENTRY_CONSOLE_CLIENT_ID":     auth.ClientID(),
	}
}
