package verify

import (
	"encoding/base64"
	"errors"
	"strings"
)

// whsecPrefix marks a Standard Webhooks (and Svix) secret.
const whsecPrefix = "whsec_"

// Key turns the secret as the user gave it into HMAC key bytes, or an error
// saying (without quoting the secret) why it is unusable.
//
// StandardWebhooks secrets are "whsec_" followed by standard base64 and the
// key is the decoded bytes; like the Standard Webhooks libraries, the prefix
// is optional. Every other scheme keys the HMAC with the secret's bytes as
// they are: Stripe documents its whole "whsec_..." string as the key.
func Key(s Scheme, secret string) ([]byte, error) {
	if secret == "" {
		return nil, errors.New("the secret is empty")
	}
	switch s {
	case StandardWebhooks:
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, whsecPrefix))
		if err != nil {
			return nil, errors.New(`the StandardWebhooks secret must be "whsec_" followed by standard base64`)
		}
		if len(key) == 0 {
			return nil, errors.New("the StandardWebhooks secret decodes to an empty key")
		}
		return key, nil
	case Stripe, GitHub, Shopify, Slack, Hmac:
		return []byte(secret), nil
	default:
		return nil, errors.New("the verification scheme is not supported")
	}
}
