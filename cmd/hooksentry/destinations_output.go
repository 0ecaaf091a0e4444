package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Human-readable output of the destinations commands: the destination JSON
// of CONTRACT §1 as far as the tables need it. --json bypasses this.

type destinationView struct {
	ID              string  `json:"id"`
	TenantID        string  `json:"tenantId"`
	URL             string  `json:"url"`
	Status          string  `json:"status"`
	ServerRateLimit int     `json:"serverRateLimit"`
	AuthType        *string `json:"authType"`
	Verification    *struct {
		Type string `json:"type"`
	} `json:"verification"`
	Deduplication *struct {
		Key    string `json:"key"`
		Window string `json:"window"`
	} `json:"deduplication"`
	Alerts    []string `json:"alerts"`
	CreatedAt string   `json:"createdAt"`
	UpdatedAt string   `json:"updatedAt"`
	// Only in the 201 of create.
	IngestToken   string `json:"ingestToken"`
	SigningSecret string `json:"signingSecret"`
}

func (d destinationView) verificationType() string {
	if d.Verification == nil || d.Verification.Type == "" {
		return "-"
	}
	return d.Verification.Type
}

type destinationPage struct {
	Total int               `json:"total"`
	Items []destinationView `json:"items"`
}

// ingestURL is where senders post for token: the ingest route is served
// beside the API (the local gateway; API Gateway's same base URL).
func ingestURL(base, token string) string {
	return base + "/ingest/" + token
}

func renderDestination(w io.Writer, raw []byte, base string) error {
	var d destinationView
	if err := decode(raw, &d); err != nil {
		return err
	}
	tw := newTable(w)
	row(tw, "ID:", d.ID)
	row(tw, "Tenant:", d.TenantID)
	row(tw, "URL:", d.URL)
	row(tw, "Status:", d.Status)
	row(tw, "Rate limit:", strconv.Itoa(d.ServerRateLimit))
	row(tw, "Auth type:", orDash(d.AuthType))
	row(tw, "Verification:", d.verificationType())
	dedup := "-"
	if d.Deduplication != nil {
		dedup = d.Deduplication.Key + " within " + d.Deduplication.Window
	}
	row(tw, "Deduplication:", dedup)
	alerts := "-"
	if len(d.Alerts) > 0 {
		alerts = strings.Join(d.Alerts, ", ")
	}
	row(tw, "Alerts:", alerts)
	row(tw, "Created:", d.CreatedAt)
	row(tw, "Updated:", d.UpdatedAt)
	if d.IngestToken != "" {
		row(tw, "Ingest token:", d.IngestToken)
		row(tw, "Ingest URL:", ingestURL(base, d.IngestToken))
	}
	if d.SigningSecret != "" {
		row(tw, "Signing secret:", d.SigningSecret)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if d.IngestToken != "" || d.SigningSecret != "" {
		_, err := fmt.Fprintln(w, "The ingest token and signing secret are shown only now: store them. rotate-token and rotate-secret issue new ones.")
		return err
	}
	return nil
}

func renderDestinationList(w io.Writer, raw []byte) error {
	var p destinationPage
	if err := decode(raw, &p); err != nil {
		return err
	}
	tw := newTable(w)
	row(tw, "ID", "STATUS", "URL", "RATE LIMIT", "AUTH", "VERIFICATION", "CREATED")
	for _, d := range p.Items {
		row(tw, d.ID, d.Status, d.URL, strconv.Itoa(d.ServerRateLimit), orDash(d.AuthType), d.verificationType(), d.CreatedAt)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d of %d\n", len(p.Items), p.Total)
	return err
}

// renderRotated prints the answer of rotate-token or rotate-secret.
func renderRotated(w io.Writer, raw []byte, base string) error {
	var r struct {
		IngestToken   string `json:"ingestToken"`
		SigningSecret string `json:"signingSecret"`
	}
	if err := decode(raw, &r); err != nil {
		return err
	}
	var err error
	switch {
	case r.IngestToken != "":
		_, err = fmt.Fprintf(w, "Ingest token: %s\nIngest URL:   %s\nShown only now: store it. The previous token no longer works.\n",
			oneLine(r.IngestToken), oneLine(ingestURL(base, r.IngestToken)))
	case r.SigningSecret != "":
		_, err = fmt.Fprintf(w, "Signing secret: %s\nShown only now: store it. The previous secret keeps signing, beside this one, for 24 hours.\n",
			oneLine(r.SigningSecret))
	default:
		return fmt.Errorf("unexpected answer from the API: %s", truncateRunes(oneLine(string(raw)), 200))
	}
	return err
}
