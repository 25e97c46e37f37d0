package review

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/antibot/cluster"
	"github.com/startline/startline/lottery"
)

// ReasonFarmCluster is the reason code of an entry sent to review because
// its cluster's shape is a farm's (cluster.FarmBump).
const ReasonFarmCluster = "farm_cluster"

// FarmStore is what the farm checks read and write besides ClusterInputs;
// the PostgreSQL store implements it. With a store that does not, the sweep
// runs without farm links.
type FarmStore interface {
	// FarmInputs reads, one query per kind, the event's card fingerprints,
	// the answers to its address question (when addressQuestion is not
	// empty) and its entries per card.
	FarmInputs(ctx context.Context, eventID int64, addressQuestion string) (FarmInputs, error)
	// ClusterLinks lists what links a cluster's entries, by kind.
	ClusterLinks(ctx context.Context, eventID int64, clusterID string) ([]ClusterLink, error)
}

// FarmInputs are the attributes a farm cannot vary cheaply, by entry id.
type FarmInputs struct {
	Cards     map[string]string // entry → card fingerprint (entry_cards)
	Addresses map[string]string // entry → the address answer as typed
	// EntriesPerCard is the event's card setting (1 without one).
	EntriesPerCard int
}

// ClusterLink is one kind of farm link inside a cluster: how many groups of
// that kind (cards, runs, buildings...) and how many entries they hold.
type ClusterLink struct {
	Kind    cluster.LinkKind `json:"kind"`
	Groups  int              `json:"groups"`
	Entries int              `json:"entries"`
}

// AddressQuestion is the id of the event's question asking for a bib
// pickup or shipping address: the first free-text question whose label
// names an address, or "". Forms have no address kind of their own, so the
// label decides; the answer is compared after cluster.NormalizeAddress.
func AddressQuestion(f lottery.Form) string {
	for _, q := range f.Questions {
		if q.Kind != lottery.KindText {
			continue
		}
		l := strings.ToLower(q.Label.EN + " " + q.Label.KO)
		for _, w := range []string{"address", "주소", "배송지"} {
			if strings.Contains(l, w) {
				return q.ID
			}
		}
	}
	return ""
}

// FarmGroups finds the groups of every farm link kind among rows:
// entries sharing a card or a full address, phone numbers in sequence,
// one building with many units, one browser setup arriving together and
// crowds on an uncommon mail domain. Indexes are into rows.
func FarmGroups(rows []ClusterInput, in FarmInputs) map[cluster.LinkKind][][]int {
	phones := make([]string, len(rows))
	domains := make([]string, len(rows))
	addrs := make([]string, len(rows))
	envs := make([]cluster.Env, len(rows))
	cards := map[string][]int{}
	for i, r := range rows {
		phones[i] = r.Phone
		domains[i] = cluster.MailDomain(r.EmailKey)
		addrs[i] = cluster.NormalizeAddress(in.Addresses[r.ID])
		envs[i] = cluster.Env{Key: cluster.EnvKey(r.UserAgent, r.Screen, r.TimeZone, []string{r.Languages}, r.Platform),
			At: r.CreatedAt}
		if fp := in.Cards[r.ID]; fp != "" {
			cards[fp] = append(cards[fp], i)
		}
	}
	g := map[cluster.LinkKind][][]int{}
	for _, idx := range cards {
		if len(idx) >= 2 {
			g[cluster.KindCard] = append(g[cluster.KindCard], idx)
		}
	}
	g[cluster.KindPhoneRun] = cluster.PhoneRun(phones, cluster.MinPhoneRun, cluster.PhoneRunGap)
	g[cluster.KindRareDomain] = cluster.RareDomainCrowd(domains, cluster.CommonMailDomains, cluster.MinDomainCrowd)
	g[cluster.KindAddress], g[cluster.KindUnitSeries] = cluster.AddressUnits(addrs, cluster.MinUnits)
	g[cluster.KindEnvBurst] = cluster.EnvironmentBursts(envs, cluster.BurstWindow, cluster.MinBurst)
	return g
}

// farmRules are the FarmBump rules for an event: its entries per card, but
// never below a household's.
func farmRules(entriesPerCard int) cluster.FarmRules {
	r := cluster.DefaultFarmRules
	r.CardMax = max(r.CardMax, entriesPerCard)
	return r
}

// FarmVerdict is what the shape of one cluster earned.
type FarmVerdict struct {
	Points int
	Links  []ClusterLink // every farm kind present in the cluster, in cluster.FarmKinds order
	Kinds  []cluster.LinkKind
}

// FarmVerdicts scores every cluster of res by its farm links: groups lists
// each kind's groups as indexes into ids (the entry ids the clustering was
// built from). A group counts in a cluster with the members it has there,
// so a campus's mail domain met by six of its students in one cluster
// counts six, not the campus. The result is keyed by cluster id and holds
// only clusters with a farm link.
func FarmVerdicts(res *cluster.Result, ids []string, groups map[cluster.LinkKind][][]int, r cluster.FarmRules) map[string]FarmVerdict {
	type acc struct {
		size    int
		largest map[cluster.LinkKind]int
		links   map[cluster.LinkKind]*ClusterLink
	}
	by := map[string]*acc{}
	in := map[string]int{} // cluster id → members of the current group in it
	for _, k := range cluster.FarmKinds {
		for _, g := range groups[k] {
			clear(in)
			for _, i := range g {
				if c, ok := res.ClusterOf(ids[i]); ok {
					in[c.ID]++
				}
			}
			for cid, n := range in {
				if n < 2 {
					continue // a group member alone in its cluster links nothing there
				}
				a := by[cid]
				if a == nil {
					c, _ := res.ClusterOf(cid)
					a = &acc{size: c.Shape.Size, largest: map[cluster.LinkKind]int{}, links: map[cluster.LinkKind]*ClusterLink{}}
					by[cid] = a
				}
				a.largest[k] = max(a.largest[k], n)
				l := a.links[k]
				if l == nil {
					l = &ClusterLink{Kind: k}
					a.links[k] = l
				}
				l.Groups++
				l.Entries += n
			}
		}
	}
	out := make(map[string]FarmVerdict, len(by))
	for id, a := range by {
		v := FarmVerdict{}
		v.Points, v.Kinds = cluster.FarmBump(cluster.FarmShape{Size: a.size, Largest: a.largest}, r)
		for _, k := range cluster.FarmKinds {
			if l := a.links[k]; l != nil {
				v.Links = append(v.Links, *l)
			}
		}
		out[id] = v
	}
	return out
}

// memberKinds lists, per row, the farm kinds of the groups it shares with
// at least one other member of its cluster in res: a runner's company
// domain crowd is no link to a farm whose burst the runner happened to be
// in.
func memberKinds(res *cluster.Result, ids []string, groups map[cluster.LinkKind][][]int) []map[cluster.LinkKind]bool {
	out := make([]map[cluster.LinkKind]bool, len(ids))
	in := map[string]int{}
	for k, gs := range groups {
		for _, g := range gs {
			clear(in)
			cid := make([]string, len(g))
			for j, i := range g {
				if c, ok := res.ClusterOf(ids[i]); ok {
					cid[j] = c.ID
					in[c.ID]++
				}
			}
			for j, i := range g {
				if cid[j] == "" || in[cid[j]] < 2 {
					continue
				}
				if out[i] == nil {
					out[i] = map[cluster.LinkKind]bool{}
				}
				out[i][k] = true
			}
		}
	}
	return out
}

// CarriesShape says whether a member of a farm-shaped cluster, in groups of
// the kinds it has, carries the shape that earned the cluster its points:
// a crowded card (which earns points alone), or at least two of those
// kinds itself (one when only one kind earned them). A runner whose popular phone setup happened to arrive in
// the farm's minutes is in the farm's burst, and only in that: it is not
// the farm (in botsim -offline, 18 of 10,000 runners were, before this);
// has comes from memberKinds, so a kind counts only through a group the
// member shares inside the cluster.
func CarriesShape(has map[cluster.LinkKind]bool, earned []cluster.LinkKind) bool {
	n := 0
	for _, k := range earned {
		if has[k] {
			if k == cluster.KindCard { // in earned only when crowded (cluster.FarmBump)
				return true
			}
			n++
		}
	}
	return n >= min(2, len(earned))
}

// strongLinks are the links of the graph FarmBump scores: phone runs,
// setup bursts and cards on more entries than rules allow. Uncommon
// domains, buildings and shared addresses are what communities have: they
// count in a farm's shape but join nothing there, or one stray burst
// among a campus's students would take the whole campus to review.
func strongLinks(n int, groups map[cluster.LinkKind][][]int, r cluster.FarmRules) [][]cluster.Link {
	links := make([][]cluster.Link, n)
	cluster.GroupLinks(links, cluster.KindPhoneRun, groups[cluster.KindPhoneRun])
	cluster.GroupLinks(links, cluster.KindEnvBurst, groups[cluster.KindEnvBurst])
	var crowded [][]int
	for _, g := range groups[cluster.KindCard] {
		if len(g) > r.CardMax {
			crowded = append(crowded, g)
		}
	}
	cluster.GroupLinks(links, cluster.KindCard, crowded)
	return links
}

// linkWords names link kinds in the stored reason (the pages translate the
// kinds themselves; see web/i18n_farms.go).
var linkWords = map[cluster.LinkKind]string{
	cluster.KindCard:       "share a card",
	cluster.KindPhoneRun:   "phone numbers in sequence",
	cluster.KindRareDomain: "same rare mail domain",
	cluster.KindUnitSeries: "same address but the unit",
	cluster.KindEnvBurst:   fmt.Sprintf("same device setup within %d minutes", int(cluster.BurstWindow/time.Minute)),
	cluster.KindAddress:    "same pickup address",
}

// farmReason is the reason a flagged member carries.
func farmReason(size int, v FarmVerdict) antibot.Reason {
	var parts []string
	for _, l := range v.Links {
		for _, k := range v.Kinds {
			if k == l.Kind {
				parts = append(parts, fmt.Sprintf("%s (%d entries)", linkWords[k], l.Entries))
			}
		}
	}
	return antibot.Reason{Code: ReasonFarmCluster, Points: v.Points,
		Detail: fmt.Sprintf("one of %d linked entries: %s", size, strings.Join(parts, "; "))}
}

// addFarmLinks appends each row's farm links to links (one slice per row).
func addFarmLinks(links [][]cluster.Link, groups map[cluster.LinkKind][][]int) {
	for _, k := range cluster.FarmKinds {
		cluster.GroupLinks(links, k, groups[k])
	}
}

// ClusterLinks shows a reviewer what links a cluster's entries, by kind.
func (s *Service) ClusterLinks(ctx context.Context, actor lottery.StaffAccount, slug, clusterID string) ([]ClusterLink, error) {
	if !lottery.CanReview(actor.Role) {
		return nil, lottery.ErrForbidden
	}
	fs, ok := s.store.(FarmStore)
	if !ok || clusterID == "" {
		return nil, nil
	}
	if _, err := uuid.Parse(clusterID); err != nil {
		return nil, lottery.Fieldf("cluster", "give a cluster id from the queue")
	}
	ev, err := s.reviewable(ctx, actor, slug)
	if err != nil {
		return nil, fmt.Errorf("cluster links %s: %w", slug, err)
	}
	ls, err := fs.ClusterLinks(ctx, ev.ID, clusterID)
	if err != nil {
		return nil, fmt.Errorf("cluster links %s: %w", slug, err)
	}
	return ls, nil
}
