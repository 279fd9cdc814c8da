package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// maxBatch bounds how many writes share one commit, so that one batch's
// latency stays short.
const maxBatch = 64

// writeRequest is one write waiting for its turn.
type writeRequest struct {
	ctx  context.Context
	op   string
	fn   func(tx *sql.Tx) error
	done chan error
}

var errClosed = errors.New("sqlite: store is closed")

// write runs fn in a write transaction and returns once it is durably
// committed, or rolled back when fn fails. fn's error is returned as is, so
// domain errors keep their code.
//
// Writes are committed in groups: whatever arrives while one commit waits
// for the disk shares the next one, each write inside a SAVEPOINT of its own
// so that one failing write undoes only itself. A durable commit costs an
// fsync, so this is what lets many concurrent writes outrun one-commit-each.
func (s *Store) write(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	req := &writeRequest{ctx: ctx, op: op, fn: fn, done: make(chan error, 1)}
	select {
	case s.writes <- req:
	case <-ctx.Done():
		return fmt.Errorf("sqlite: %s: wait for the writer: %w", op, ctx.Err())
	case <-s.closing:
		return errClosed
	}
	// Once queued the write may already be in a batch: wait for its result
	// even if ctx ends, so the caller never reports failure for a commit.
	return <-req.done
}

// commitLoop is the one goroutine that writes, batch after batch.
func (s *Store) commitLoop() {
	defer close(s.loopDone)
	for {
		var batch []*writeRequest
		select {
		case req := <-s.writes:
			batch = append(batch, req)
		case <-s.closing:
			return
		}
	more:
		for len(batch) < maxBatch {
			select {
			case req := <-s.writes:
				batch = append(batch, req)
			default:
				break more
			}
		}
		errs := s.commitBatch(batch)
		for i, req := range batch {
			req.done <- errs[i]
		}
	}
}

// commitBatch runs the batch's writes in one transaction and returns each
// write's outcome.
func (s *Store) commitBatch(batch []*writeRequest) []error {
	errs := make([]error, len(batch))
	// The transaction is not tied to one request's context: it serves all.
	ctx := context.Background()
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		for i, req := range batch {
			errs[i] = fmt.Errorf("sqlite: %s: begin: %w", req.op, err)
		}
		return errs
	}
	for i, req := range batch {
		if err := req.ctx.Err(); err != nil {
			errs[i] = fmt.Errorf("sqlite: %s: %w", req.op, err)
			continue
		}
		if _, err := tx.ExecContext(ctx, "SAVEPOINT write"); err != nil {
			errs[i] = fmt.Errorf("sqlite: %s: savepoint: %w", req.op, err)
			continue
		}
		errs[i] = req.fn(tx)
		var undo error
		if errs[i] != nil {
			_, undo = tx.ExecContext(ctx, "ROLLBACK TO write")
		}
		if undo == nil {
			_, undo = tx.ExecContext(ctx, "RELEASE write")
		}
		if undo != nil {
			// The transaction cannot be trusted any more: nothing of it
			// may commit.
			tx.Rollback()
			return failRest(batch, errs, undo)
		}
	}
	if err := tx.Commit(); err != nil {
		return failRest(batch, errs, fmt.Errorf("commit: %w", err))
	}
	return errs
}

// failRest gives every write that had not failed on its own the error that
// undid the whole batch.
func failRest(batch []*writeRequest, errs []error, err error) []error {
	for i, req := range batch {
		if errs[i] == nil {
			errs[i] = fmt.Errorf("sqlite: %s: %w", req.op, err)
		}
	}
	return errs
}
