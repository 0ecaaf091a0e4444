// Package stack owns running HookSentry on one machine without AWS:
// provisioning the table, key and queues in the emulators (idempotently),
// and assembling the local gateway, delivery workers and sweeper that
// `hooksentry run` and the end-to-end tests start. Importers name it
// localstack, since stack is their usual name for a running one.
package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/hooksentry/hooksentry/pkg/config"
	"github.com/hooksentry/hooksentry/pkg/store"
)

// Names are the resource names the local stack uses.
type Names struct {
	Table      string
	KeyAlias   string // alias/...
	Queue      string
	DeadLetter string
	// VisibilityTimeout of the delivery queue: how long a message taken by a
	// worker that then died stays invisible.
	VisibilityTimeout time.Duration
}

// DefaultVisibilityTimeout is the delivery queue's, as in template.yaml: 6 ×
// the deliver function's timeout, so a local invocation gets the whole
// function timeout and every delivery timeout that pkg/config accepts fits.
const DefaultVisibilityTimeout = 6 * config.DeliverFunctionTimeout

// DefaultNames are used by `make run`.
func DefaultNames() Names {
	return Names{Table: "hooksentry", KeyAlias: "alias/hooksentry-local", Queue: "hooksentry-delivery", DeadLetter: "hooksentry-delivery-dlq", VisibilityTimeout: DefaultVisibilityTimeout}
}

// Resources identifies what Provision created or found.
type Resources struct {
	TableName string `json:"tableName"`
	KMSKeyID  string `json:"kmsKeyId"`
	QueueURL  string `json:"queueUrl"`
	DLQURL    string `json:"dlqUrl"`
}

// Provision creates the table, the KMS key and alias, and the queues unless
// they exist. It is safe to run on every start.
func Provision(ctx context.Context, cfg aws.Config, names Names) (Resources, error) {
	res := Resources{TableName: names.Table}
	if err := store.EnsureTable(ctx, dynamodb.NewFromConfig(cfg), names.Table); err != nil {
		return Resources{}, err
	}
	keyID, err := ensureKey(ctx, kms.NewFromConfig(cfg), names.KeyAlias)
	if err != nil {
		return Resources{}, err
	}
	res.KMSKeyID = keyID
	res.QueueURL, res.DLQURL, err = ensureQueues(ctx, sqs.NewFromConfig(cfg), names)
	if err != nil {
		return Resources{}, err
	}
	return res, nil
}

func ensureKey(ctx context.Context, c *kms.Client, alias string) (string, error) {
	out, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(alias)})
	if err == nil {
		return aws.ToString(out.KeyMetadata.KeyId), nil
	}
	var nf *kmstypes.NotFoundException
	if !errors.As(err, &nf) {
		return "", fmt.Errorf("describe key %s: %w", alias, err)
	}
	created, err := c.CreateKey(ctx, &kms.CreateKeyInput{
		Description: aws.String("HookSentry local credentials key"),
		KeySpec:     kmstypes.KeySpecSymmetricDefault,
		KeyUsage:    kmstypes.KeyUsageTypeEncryptDecrypt,
	})
	if err != nil {
		return "", fmt.Errorf("create key: %w", err)
	}
	id := aws.ToString(created.KeyMetadata.KeyId)
	if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: aws.String(id)}); err != nil {
		return "", fmt.Errorf("create alias %s: %w", alias, err)
	}
	return id, nil
}

func ensureQueues(ctx context.Context, c *sqs.Client, names Names) (queueURL, dlqURL string, err error) {
	dlq, err := ensureQueue(ctx, c, names.DeadLetter, map[string]string{
		string(sqstypes.QueueAttributeNameMessageRetentionPeriod): "1209600",
	})
	if err != nil {
		return "", "", err
	}
	attrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(dlq), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", "", fmt.Errorf("get attributes of %s: %w", names.DeadLetter, err)
	}
	redrive, _ := json.Marshal(map[string]string{
		"deadLetterTargetArn": attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)],
		"maxReceiveCount":     "5",
	})
	vis := names.VisibilityTimeout
	if vis <= 0 {
		vis = DefaultVisibilityTimeout
	}
	q, err := ensureQueue(ctx, c, names.Queue, map[string]string{
		string(sqstypes.QueueAttributeNameVisibilityTimeout): strconv.Itoa(int(vis.Seconds())),
		string(sqstypes.QueueAttributeNameRedrivePolicy):     string(redrive),
	})
	if err != nil {
		return "", "", err
	}
	return q, dlq, nil
}

// ensureQueue creates the queue, or, since queues and their messages now
// outlive a restart (STATE_DIR/sqs), brings an existing queue created with
// other attributes (by an older version of this code) to attrs, keeping its
// messages.
func ensureQueue(ctx context.Context, c *sqs.Client, name string, attrs map[string]string) (string, error) {
	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err == nil {
		return aws.ToString(q.QueueUrl), nil
	}
	var exists *sqstypes.QueueNameExists
	if !errors.As(err, &exists) {
		return "", fmt.Errorf("create queue %s: %w", name, err)
	}
	got, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if err != nil {
		return "", fmt.Errorf("get URL of queue %s: %w", name, err)
	}
	if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: got.QueueUrl, Attributes: attrs}); err != nil {
		return "", fmt.Errorf("set attributes of queue %s: %w", name, err)
	}
	return aws.ToString(got.QueueUrl), nil
}
