// Package idpmeta configures integrations from their IdPs' SAML metadata:
// it reads the metadata (pasted, or fetched through the outbound policy),
// parses it with saml.ParseIdPMetadata and imports it through the store, on
// request and on a schedule (README, "IdP metadata").
package idpmeta

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/outbound"
	"github.com/ssod/ssod/saml"
)

// Fields of the API's metadata requests that errors name.
const (
	FieldXML = "metadata_xml"
	FieldURL = "metadata_url"
)

// Fetcher reads URLs tenants give under ssod's outbound policy
// (outbound.Client).
type Fetcher interface {
	CheckURL(raw string) error
	Get(ctx context.Context, url string) ([]byte, error)
}

// Importer reads IdP metadata and imports it into integrations.
type Importer struct {
	store ssod.MetadataStore
	fetch Fetcher
	now   func() time.Time
	log   *slog.Logger
}

// New returns an Importer writing to store, fetching with fetch, reading
// time from now.
func New(store ssod.MetadataStore, fetch Fetcher, now func() time.Time, log *slog.Logger) *Importer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Importer{store: store, fetch: fetch, now: now, log: log}
}

// Source is where metadata comes from: pasted XML or a URL (exactly one),
// and the entityID that chooses among several IdPs ("" for none).
type Source struct {
	XML      *string
	URL      *string
	EntityID string
}

// StoredURL is the metadata URL an import from s keeps on the integration:
// the URL read, or "" for pasted XML, which forgets a stored URL.
func (s Source) StoredURL() *string {
	if s.URL != nil {
		return s.URL
	}
	return new(string)
}

// Read returns the metadata of src, checked as the integration API checks
// its fields. Every error a client caused is an *ssod.Error (or
// ssod.Errors) naming metadata_xml or metadata_url.
func (im *Importer) Read(ctx context.Context, src Source) (ssod.IdPMetadata, error) {
	field, doc := FieldXML, []byte(nil)
	if src.XML != nil {
		doc = []byte(*src.XML)
	} else {
		field = FieldURL
		if err := im.fetch.CheckURL(*src.URL); err != nil {
			return ssod.IdPMetadata{}, ssod.FieldErrorf(ssod.EInvalid, field, "metadata_url is not allowed: %s", reason(err))
		}
		var err error
		if doc, err = im.fetch.Get(ctx, *src.URL); err != nil {
			if ctx.Err() != nil {
				return ssod.IdPMetadata{}, fmt.Errorf("read metadata: %w", ctx.Err())
			}
			return ssod.IdPMetadata{}, ssod.FieldErrorf(ssod.EInvalid, field, "metadata_url could not be read: %s", reason(err))
		}
	}
	md, err := saml.ParseIdPMetadata(doc, saml.MetadataOptions{Now: im.now(), EntityID: src.EntityID})
	if err != nil {
		return md, ssod.FieldErrorf(ssod.EInvalid, field, "%s: %s", field, err.Error())
	}
	// The values must also pass the integration API's checks; a problem is
	// the metadata's, so it names the metadata's field.
	bad := ssod.IntegrationUpdate{SigninURL: &md.SigninURL, SignoutURL: &md.SignoutURL, EntityID: &md.EntityID}.Validate()
	if bad == nil {
		return md, nil
	}
	var errs ssod.Errors
	for _, p := range ssod.ProblemsOf(bad) {
		errs = append(errs, ssod.FieldErrorf(ssod.EInvalid, field, "%s: the metadata's %s", field, p.Message))
	}
	return md, errs
}

// reason is an outbound error without its package prefix, for a client.
func reason(err error) string {
	if errors.Is(err, outbound.ErrTooLarge) {
		return fmt.Sprintf("the document is larger than %d bytes", saml.MaxMetadataSize)
	}
	msg := strings.TrimPrefix(err.Error(), outbound.ErrForbidden.Error()+": ")
	return strings.TrimPrefix(strings.TrimPrefix(msg, "outbound: "), "GET: ")
}

// Refresh reads the metadata URL of in again and imports it. A failure
// leaves the integration as it is, records why (its metadata_error) and
// is logged; it is returned too.
func (im *Importer) Refresh(ctx context.Context, in ssod.Integration) (*ssod.Integration, error) {
	md, err := im.Read(ctx, Source{URL: &in.MetadataURL, EntityID: in.EntityID})
	if err != nil && ctx.Err() == nil {
		msg := err.Error()
		if p := ssod.ProblemsOf(err); len(p) > 0 {
			msg = p[0].Message
		}
		im.log.WarnContext(ctx, "idp metadata refresh failed", "integration_id", in.ID, "err", msg)
		// The note outlives a client that gave up: the read is done.
		if rerr := im.store.RecordMetadataFailure(context.WithoutCancel(ctx), in.AccountID, in.ID, msg); rerr != nil {
			im.log.ErrorContext(ctx, "record idp metadata failure", "integration_id", in.ID, "err", rerr)
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	out, err := im.store.ImportMetadata(ctx, in.AccountID, in.ID, ssod.MetadataImport{Metadata: md}, im.now().Unix())
	if err != nil {
		im.log.WarnContext(ctx, "idp metadata refresh failed", "integration_id", in.ID, "err", err)
		if ssod.CodeOf(err) != ssod.EInternal {
			_ = im.store.RecordMetadataFailure(context.WithoutCancel(ctx), in.AccountID, in.ID, err.Error())
		}
		return nil, err
	}
	im.log.InfoContext(ctx, "idp metadata refreshed", "integration_id", in.ID, "certificates", len(md.Certificates))
	return out, nil
}

// claimBatch is how many due integrations one instance takes at a time.
const claimBatch = 20

// Run refreshes, until ctx ends, every integration with a metadata URL that
// was last read (or claimed) every ago or longer: it looks once a minute
// (more often when every is shorter), claiming due integrations in the
// store, so that of several instances one reads each.
func (im *Importer) Run(ctx context.Context, every time.Duration) {
	tick := min(time.Minute, max(every/4, 10*time.Millisecond))
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		im.RunOnce(ctx, every)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RefreshKeyID is the key id the audit trail shows for scheduled refreshes,
// which no account's key makes (as a seed's changes show "seed").
const RefreshKeyID = "metadata-refresh"

// RunOnce claims and refreshes the integrations due now, batch by batch.
func (im *Importer) RunOnce(ctx context.Context, every time.Duration) {
	ctx = ssod.WithActor(ctx, ssod.Actor{KeyID: RefreshKeyID})
	for ctx.Err() == nil {
		now := im.now().Unix()
		due, err := im.store.ClaimMetadataRefreshes(ctx, now-int64(every/time.Second), now, claimBatch)
		if err != nil {
			if ctx.Err() == nil {
				im.log.ErrorContext(ctx, "claim idp metadata refreshes", "err", err)
			}
			return
		}
		for _, in := range due {
			_, _ = im.Refresh(ctx, in) // logged and recorded there
		}
		if len(due) < claimBatch {
			return
		}
	}
}
