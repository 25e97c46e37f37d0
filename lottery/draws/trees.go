package draws

import (
	"context"
	"sync"

	"github.com/startline/startline/lottery/fairdraw"
)

// treeCache keeps the Merkle trees of recently proven sub-queues: a frozen
// list never changes, and a built tree answers each proof in O(log n)
// instead of rehashing a million leaves per request.
type treeCache struct {
	mu    sync.Mutex
	trees map[int64]*fairdraw.Tree
	order []int64
}

const maxCachedTrees = 4

// entryLister is the one store read the cache needs.
type entryLister interface {
	DrawEntries(ctx context.Context, subqueueID int64) ([]fairdraw.Entry, error)
}

func (c *treeCache) get(ctx context.Context, id int64, store entryLister) (*fairdraw.Tree, error) {
	c.mu.Lock()
	t, ok := c.trees[id]
	c.mu.Unlock()
	if ok {
		return t, nil
	}
	entries, err := store.DrawEntries(ctx, id)
	if err != nil {
		return nil, err
	}
	t = fairdraw.NewTree(entries)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.trees == nil {
		c.trees = map[int64]*fairdraw.Tree{}
	}
	if _, ok := c.trees[id]; !ok {
		c.trees[id] = t
		c.order = append(c.order, id)
		if len(c.order) > maxCachedTrees {
			delete(c.trees, c.order[0])
			c.order = c.order[1:]
		}
	}
	return t, nil
}
