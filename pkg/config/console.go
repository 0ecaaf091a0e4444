package config

import (
	"fmt"
	"net/url"
)

// ConsoleConfigured reports whether the console's sign-in is set up: the
// authorization and token endpoints and the client id are all set
// (validateConsole refuses some without the others).
func (c Config) ConsoleConfigured() bool {
	return c.ConsoleAuthorizeURL != "" && c.ConsoleTokenURL != "" && c.ConsoleClientID != ""
}

// validateConsole checks the console settings: each URL, when set, is an
// absolute http or https URL with a host (the console's Content-Security-
// Policy is built from their origins, so a relative or odd URL would
// silently break sign-in), and the three required settings come together
// or not at all, since half a configuration cannot sign anyone in.
func (c Config) validateConsole() []error {
	var errs []error
	urls := []struct{ name, value string }{
		{"HOOKSENTRY_CONSOLE_AUTHORIZE_URL", c.ConsoleAuthorizeURL},
		{"HOOKSENTRY_CONSOLE_TOKEN_URL", c.ConsoleTokenURL},
		{"HOOKSENTRY_CONSOLE_LOGOUT_URL", c.ConsoleLogoutURL},
	}
	for _, u := range urls {
		if u.value == "" {
			continue
		}
		if err := checkConsoleURL(u.value); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", u.name, err))
		}
	}
	set := 0
	for _, v := range []string{c.ConsoleAuthorizeURL, c.ConsoleTokenURL, c.ConsoleClientID} {
		if v != "" {
			set++
		}
	}
	if set != 0 && set != 3 {
		errs = append(errs, fmt.Errorf("HOOKSENTRY_CONSOLE_AUTHORIZE_URL, HOOKSENTRY_CONSOLE_TOKEN_URL and HOOKSENTRY_CONSOLE_CLIENT_ID: set all three or none (%d of 3 set)", set))
	}
	if c.ConsoleLogoutURL != "" && set == 0 {
		errs = append(errs, fmt.Errorf("HOOKSENTRY_CONSOLE_LOGOUT_URL is set but the console's sign-in is not configured"))
	}
	return errs
}

func checkConsoleURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL", raw)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return fmt.Errorf("%q is not an absolute http or https URL with a host (no user-info or fragment)", raw)
	}
	return nil
}
