package emulator_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/hooksentry/hooksentry/pkg/local/emulator"
)

// sqsServer runs tools/emulators/sqs-server.js on stateDir, as Start does,
// but as a process of its own so that the test can SIGKILL it.
type sqsServer struct {
	cmd      *exec.Cmd
	endpoint string
}

func startSQSServer(t *testing.T, stateDir string) *sqsServer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	root, err := emulator.FindRepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	if err := emulator.EnsureTools(ctx, root, nil); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join(root, "tools", "emulators", "sqs-server.js"),
		"--host", "127.0.0.1", "--port", "0", "--state-dir", stateDir)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &sqsServer{cmd: cmd}
	t.Cleanup(s.kill)
	ready := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`^sqs listening on (http://127\.0\.0\.1:\d+)$`)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				ready <- m[1]
			}
		}
	}()
	select {
	case s.endpoint = <-ready:
	case <-time.After(30 * time.Second):
		t.Fatal("sqs-server.js did not print its listening line")
	}
	return s
}

// kill sends SIGKILL: the process gets no chance to write anything more.
func (s *sqsServer) kill() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

func (s *sqsServer) client() *sqs.Client {
	return sqs.New(sqs.Options{
		Region: emulator.Region, BaseEndpoint: aws.String(s.endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
}

// TestSQSMessagesSurviveSIGKILL is the durability of CONTRACT §4 at the
// emulator: queues (with their attributes), queued messages, delayed
// messages (with what is left of their delay) and messages received but not
// deleted are all there after the emulator is SIGKILLed and started again on
// the same directory; deleted messages are not.
func TestSQSMessagesSurviveSIGKILL(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	first := startSQSServer(t, dir)
	c := first.client()
	dlq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("durable-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	attrs := map[string]string{
		"VisibilityTimeout": "30",
		"RedrivePolicy":     `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:durable-dlq","maxReceiveCount":5}`,
	}
	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("durable"), Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	send := func(body string, delay int32) {
		t.Helper()
		_, err := c.SendMessage(ctx, &sqs.SendMessageInput{
			QueueUrl: q.QueueUrl, MessageBody: aws.String(body), DelaySeconds: delay,
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{
				"kind": {DataType: aws.String("String"), StringValue: aws.String(body)},
			},
		})
		if err != nil {
			t.Fatalf("send %s: %v", body, err)
		}
	}
	send("deleted", 0)
	send("in-flight", 0)
	const delay = 6
	delayedSent := time.Now()
	send("delayed", delay)
	if _, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: q.QueueUrl, Entries: []sqstypes.SendMessageBatchRequestEntry{
		{Id: aws.String("1"), MessageBody: aws.String("batch-1")},
		{Id: aws.String("2"), MessageBody: aws.String("batch-2")},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: dlq.QueueUrl, MessageBody: aws.String("dead")}); err != nil {
		t.Fatal(err)
	}

	// A deleted queue and a purged queue's messages stay gone.
	for _, name := range []string{"durable-gone", "durable-purged"} {
		o, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: o.QueueUrl, MessageBody: aws.String("x")}); err != nil {
			t.Fatal(err)
		}
		if name == "durable-gone" {
			_, err = c.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: o.QueueUrl})
		} else {
			_, err = c.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: o.QueueUrl})
		}
		if err != nil {
			t.Fatal(err)
		}
	}

	got := map[string]sqstypes.Message{}
	for got["deleted"].ReceiptHandle == nil || got["in-flight"].ReceiptHandle == nil {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"},
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			got[aws.ToString(m.Body)] = m
		}
	}
	// Everything immediate was received (batch-* too, perhaps); delete
	// "deleted", leave the rest in flight.
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: got["deleted"].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}

	first.kill()
	second := startSQSServer(t, dir)
	c = second.client()

	// The same CreateQueue answers with the existing queue, as it does for
	// the local stack's provisioning on every start.
	again, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("durable"), Attributes: attrs})
	if err != nil {
		t.Fatalf("CreateQueue after restart: %v", err)
	}
	qa, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: again.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range attrs {
		if got := qa.Attributes[k]; got != want {
			t.Errorf("attribute %s after restart = %q, want %q", k, got, want)
		}
	}

	if _, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("durable-gone")}); err == nil {
		t.Error("a queue deleted before the kill is back after the restart")
	}
	purged, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("durable-purged")})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: purged.QueueUrl}); err != nil || len(out.Messages) != 0 {
		t.Errorf("purged queue after restart: %v, err %v; want no messages", out, err)
	}

	var bodies []string
	var delayedAt time.Time
	deadline := time.Now().Add(30 * time.Second)
	for len(bodies) < 4 && time.Now().Before(deadline) {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: again.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageAttributeNames: []string{"All"},
			// local-aws-sqs 2.0.2 knows only the older AttributeNames.
			//lint:ignore SA1019 the emulator ignores MessageSystemAttributeNames
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			body := aws.ToString(m.Body)
			bodies = append(bodies, body)
			if body == "delayed" {
				delayedAt = time.Now()
			}
			if body == "in-flight" {
				if n := m.Attributes["ApproximateReceiveCount"]; n != "2" {
					t.Errorf("in-flight message: ApproximateReceiveCount = %s, want 2 (one receive before the kill, one after)", n)
				}
				if v := aws.ToString(m.MessageAttributes["kind"].StringValue); v != "in-flight" {
					t.Errorf("in-flight message: attribute kind = %q, want it kept", v)
				}
			}
			if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: again.QueueUrl, ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	slices.Sort(bodies)
	if want := []string{"batch-1", "batch-2", "delayed", "in-flight"}; !slices.Equal(bodies, want) {
		t.Fatalf("received after restart: %q, want %q", bodies, want)
	}
	if early := delayedSent.Add(delay*time.Second - 500*time.Millisecond); delayedAt.Before(early) {
		t.Errorf("delayed message received %s after it was sent, before its %ds delay", delayedAt.Sub(delayedSent), delay)
	}
	out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: dlq.QueueUrl, MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != "dead" {
		t.Errorf("dead-letter queue after restart: %d messages, want the one sent to it", len(out.Messages))
	}

	// Deletions made after the restart are durable too.
	second.kill()
	third := startSQSServer(t, dir).client()
	url, err := third.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("durable")})
	if err != nil {
		t.Fatal(err)
	}
	n, err := third.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: url.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
	if err != nil {
		t.Fatal(err)
	}
	if got := n.Attributes["ApproximateNumberOfMessages"]; got != "0" {
		t.Errorf("messages after deleting all and restarting = %s, want 0", got)
	}
	// Each start rewrites the journal as what is live: three queues and
	// the one message left in the dead-letter queue.
	journal, err := os.ReadFile(filepath.Join(dir, "journal.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(journal), "\n"); lines != 4 {
		t.Errorf("journal after restart has %d lines, want 4 (compacted):\n%s", lines, journal)
	}
}
