package room

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// bulkInsert writes rows with multi-row INSERTs, so that a batch of events
// costs a few statements rather than one per row. head is the statement up
// to VALUES, tail what follows the value lists (an ON CONFLICT clause), and
// each row holds one value per placeholder of row. Chunks have power-of-two
// sizes up to 64, so that a transaction prepares at most seven statements
// of each kind. A new chunk starts where key (if given) repeats, since one
// statement may not upsert a row twice.
func bulkInsert(ctx context.Context, q Querier, head, row, tail string, rows [][]any, key func(i int) int64) error {
	for start := 0; start < len(rows); {
		end := start + 1
		if key != nil {
			seen := map[int64]bool{key(start): true}
			for end < len(rows) && end-start < 64 && !seen[key(end)] {
				seen[key(end)] = true
				end++
			}
		} else {
			end = min(len(rows), start+64)
		}
		n := 1
		for n*2 <= end-start {
			n *= 2
		}
		args := make([]any, 0, n*len(rows[start]))
		for _, r := range rows[start : start+n] {
			args = append(args, r...)
		}
		if _, err := q.ExecContext(ctx, bulkQuery(head, row, tail, n), args...); err != nil {
			return fmt.Errorf("room: insert %d rows: %w", n, err)
		}
		start += n
	}
	return nil
}

type bulkKey struct {
	head, tail string
	n          int
}

// bulkQueries holds the few statements bulkInsert builds, so that a batch
// does not build them again for every chunk.
var bulkQueries sync.Map // bulkKey → string

func bulkQuery(head, row, tail string, n int) string {
	k := bulkKey{head, tail, n}
	if q, ok := bulkQueries.Load(k); ok {
		return q.(string)
	}
	q := head + " VALUES " + strings.TrimSuffix(strings.Repeat(row+", ", n), ", ") + " " + tail
	bulkQueries.Store(k, q)
	return q
}
