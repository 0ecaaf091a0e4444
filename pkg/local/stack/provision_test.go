package stack

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/config"
	"github.com/hooksentry/hooksentry/pkg/local/emulator/emulatortest"
)

func TestMain(m *testing.M) { os.Exit(emulatortest.Run(m, nil)) }

// TestProvisionKeepsQueuedMessagesWhenQueueSettingsChange: queues outlive
// restarts now, so a queue created by an older version of Provision (here:
// another visibility timeout) is brought to the current settings, not
// refused, and keeps its messages.
func TestProvisionKeepsQueuedMessagesWhenQueueSettingsChange(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := app.AWSFromEnvironment(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	names := Names{Table: "provision", KeyAlias: "alias/provision", Queue: "provision-q", DeadLetter: "provision-dlq", VisibilityTimeout: 30 * time.Second}
	res, err := Provision(ctx, cfg, names)
	if err != nil {
		t.Fatal(err)
	}
	c := sqs.NewFromConfig(cfg)
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(res.QueueURL), MessageBody: aws.String("kept")}); err != nil {
		t.Fatal(err)
	}
	again, err := Provision(ctx, cfg, names)
	if err != nil || again != res {
		t.Fatalf("Provision again: %+v, %v; want %+v", again, err, res)
	}
	names.VisibilityTimeout = 45 * time.Second
	changed, err := Provision(ctx, cfg, names)
	if err != nil {
		t.Fatalf("Provision with another visibility timeout: %v", err)
	}
	attrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(changed.QueueURL), AttributeNames: []sqstypes.QueueAttributeName{
		sqstypes.QueueAttributeNameVisibilityTimeout, sqstypes.QueueAttributeNameApproximateNumberOfMessages,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got := attrs.Attributes["VisibilityTimeout"]; got != "45" {
		t.Errorf("VisibilityTimeout = %s, want 45", got)
	}
	if got := attrs.Attributes["ApproximateNumberOfMessages"]; got != "1" {
		t.Errorf("messages after re-provisioning = %s, want the 1 sent before", got)
	}
}

// TestDefaultVisibilityGivesEveryInvocationTheFunctionTimeout: the poller
// caps an invocation at 2/3 of the visibility timeout; with make run's
// queue that cap must not cut into the deliver function's timeout, or a
// delivery timeout pkg/config accepts would re-queue forever locally.
func TestDefaultVisibilityGivesEveryInvocationTheFunctionTimeout(t *testing.T) {
	if got, want := DefaultNames().VisibilityTimeout*2/3, config.DeliverFunctionTimeout; got < want {
		t.Errorf("2/3 of the default visibility timeout: got %s, want at least the function timeout %s", got, want)
	}
}
