package review

import (
	"context"
	"fmt"
	"time"

	"github.com/startline/startline/antibot"

	"github.com/startline/startline/antibot/cluster"
	"github.com/startline/startline/antibot/identity"
	"github.com/startline/startline/lottery"
)

// ClusterInput is what clustering reads of an entry.
type ClusterInput struct {
	ID, EmailKey, Phone, DeviceID, Fingerprint, ClientIP, UserAgent, PersonKey string
	Status                                                                     lottery.EntryStatus
	// GeoMismatch: the apply assessment found the device's time zone in
	// another country than its network (antibot.ReasonGeoMismatch).
	GeoMismatch bool
	// Screen and Platform are the form's signals of the same names.
	Screen, Platform string
	// TimeZone and Languages (the list as sent, JSON) complete the
	// browser setup the farm checks compare; CreatedAt is when it applied.
	TimeZone, Languages string
	CreatedAt           time.Time
}

// ClusterUpdate is the result of one clustering pass over an event.
type ClusterUpdate struct {
	EventID int64
	// ClusterOf maps each entry in a cluster of two or more to the
	// cluster's id (its smallest entry id); other entries get none.
	ClusterOf map[string]string
	// Flag lists received entries to move to review, with the reason.
	Flag map[string]string
	// Farm lists entries (not in Flag) whose cluster's shape is a farm's,
	// with the reason and its points (FarmVerdicts); Links what links each
	// cluster with farm links, for the reviewer (farms.go).
	Farm  map[string]antibot.Reason
	Links map[string][]ClusterLink
}

// FlagClusterSize is the size from which entries made from one device
// (its signed cookie) go to review: a couple on one laptop is common, a device
// entering four different people is not.
const FlagClusterSize = 4

// MinGeoOutliers is the fewest mismatched entries of one device class that
// can be flagged as a proxy farm (see cluster.MismatchOutliers).
const MinGeoOutliers = 3

// clusterOptions: device cookie ids never become "too common to mean
// anything" (households do not share cookies; a bot farm does), other keys
// stop linking past 25 entries (a campus NAT, a default fingerprint).
var clusterOptions = cluster.Options{MaxKeyFanout: cluster.DefaultMaxKeyFanout,
	PerKind: map[cluster.LinkKind]int{cluster.KindDevice: -1}}

// RecomputeClusters links an event's entries that share an e-mail key,
// phone, device cookie, fingerprint, IP + user agent or name + birth date,
// stores the cluster of each, and sends received entries of suspicious
// device groups (FlagClusterSize or more joined by a device or fingerprint) to
// review, as are the mismatched entries of a device fingerprint seen through
// improbably many networks abroad. It returns how many entries it flagged.
// The event lifecycle calls it at freeze (lottery.Clusters).
func (s *Service) RecomputeClusters(ctx context.Context, ev lottery.Event) (int, error) {
	rows, err := s.store.ClusterInputs(ctx, ev.ID)
	if err != nil {
		return 0, fmt.Errorf("clusters %s: %w", ev.Slug, err)
	}
	var farm *FarmInputs
	if fs, ok := s.store.(FarmStore); ok {
		in, err := fs.FarmInputs(ctx, ev.ID, AddressQuestion(ev.Form))
		if err != nil {
			return 0, fmt.Errorf("clusters %s: %w", ev.Slug, err)
		}
		farm = &in
	}
	n, err := s.store.SaveClusters(ctx, ComputeClusters(ev.ID, rows, farm))
	if err != nil {
		return 0, fmt.Errorf("clusters %s: %w", ev.Slug, err)
	}
	return n, nil
}

// ComputeClusters is RecomputeClusters without the store: the clusters and
// flags of an event's entries, and with farm inputs (nil: none) the farm
// links and their verdicts. cmd/botsim -offline runs it on simulated crowds.
func ComputeClusters(eventID int64, rows []ClusterInput, farmIn *FarmInputs) ClusterUpdate {
	// Two passes: every link for the cluster a reviewer sees, and only the
	// strong device links (cookie, fingerprint) to decide what to flag, so
	// a household behind one router with one browser version is not
	// flagged for sharing an IP and user agent.
	all := make([]cluster.Entry, len(rows))
	devices := make([]cluster.Entry, len(rows))
	status := make(map[string]lottery.EntryStatus, len(rows))
	// Two ways to call devices "the same kind": by fingerprint, and by
	// browser profile (user agent, screen, platform), which a farm sending a
	// fresh random fingerprint per entry still shares.
	classes := make([]cluster.Member, len(rows))
	profiles := make([]cluster.Member, len(rows))
	// Name + birth date links by similarity, not only equality: a typo
	// ("Minjoon" for "Minjun") with a new mailbox and phone is still linked
	// for the reviewer (it flags nothing by itself: different people with
	// alike names share birthdays at this scale).
	persons := make([]string, len(rows))
	for i, r := range rows {
		persons[i] = r.PersonKey
	}
	person := identity.SimilarPersons(persons)
	for i, r := range rows {
		// Only the signed device cookie decides flags: a canvas/WebGL
		// fingerprint is shared by every phone of one model and OS version
		// (flagging on it sent 59% of simulated runners to review).
		devices[i] = cluster.Entry{ID: r.ID, Links: []cluster.Link{{Kind: cluster.KindDevice, Value: r.DeviceID}}}
		dev := []cluster.Link{{Kind: cluster.KindDevice, Value: r.DeviceID}, {Kind: cluster.KindFingerprint, Value: r.Fingerprint}}
		all[i] = cluster.Entry{ID: r.ID, Links: append(dev, cluster.Link{Kind: cluster.KindEmail, Value: r.EmailKey},
			cluster.Link{Kind: cluster.KindPhone, Value: r.Phone}, cluster.IPUALink(r.ClientIP, r.UserAgent),
			cluster.Link{Kind: cluster.KindNameBirth, Value: person[r.PersonKey]})}
		status[r.ID] = r.Status
		if r.Fingerprint != "" {
			classes[i] = cluster.Member{ID: r.ID, Class: r.Fingerprint + "\x00" + r.UserAgent, Mismatch: r.GeoMismatch}
		}
		if r.UserAgent != "" && r.Screen != "" {
			profiles[i] = cluster.Member{ID: r.ID, Class: r.UserAgent + "\x00" + r.Screen + "\x00" + r.Platform,
				Mismatch: r.GeoMismatch}
		}
	}
	// Farm links: what a farm's entries share though each looks like a
	// person (farms.go). They join the reviewer's clusters, but what is
	// scored is a graph of the strong ones only (strongLinks): through
	// identity keys (a popular phone's fingerprint, a shared router, alike
	// names) and community links (a campus domain) one event's clusters
	// chain households, campuses and farms together, and one farm-shaped
	// link would then flag them all (in botsim -offline it sent 54% of
	// runners living alone to review).
	var farm map[cluster.LinkKind][][]int
	rules := farmRules(1)
	farmOnly := make([]cluster.Entry, len(rows))
	if farmIn != nil {
		farm, rules = FarmGroups(rows, *farmIn), farmRules(farmIn.EntriesPerCard)
		links := make([][]cluster.Link, len(rows))
		addFarmLinks(links, farm)
		strong := strongLinks(len(rows), farm, rules)
		for i := range all {
			all[i].Links = append(all[i].Links, links[i]...)
			farmOnly[i] = cluster.Entry{ID: rows[i].ID, Links: strong[i]}
		}
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	res := cluster.Analyze(all, cluster.FarmOptions(clusterOptions))
	u := ClusterUpdate{EventID: eventID, ClusterOf: map[string]string{}, Flag: map[string]string{},
		Farm: map[string]antibot.Reason{}, Links: map[string][]ClusterLink{}}
	for _, c := range res.Clusters {
		if c.Shape.Size < 2 {
			continue
		}
		for _, id := range c.Members {
			u.ClusterOf[id] = c.ID
		}
	}
	for _, c := range cluster.Build(devices, clusterOptions) {
		if c.Shape.Size < FlagClusterSize {
			continue
		}
		for _, id := range c.Members {
			if flaggable(status[id]) {
				u.Flag[id] = fmt.Sprintf("one of %d entries, for different people, made from the same device", c.Shape.Size)
			}
		}
	}
	// A fingerprint or a browser profile is shared by every phone of a
	// model, so it flags nothing by itself; one replayed through networks
	// abroad again and again does.
	for _, k := range []struct {
		what    string
		members []cluster.Member
	}{{"device fingerprint", classes}, {"browser profile (user agent, screen, platform)", profiles}} {
		for _, o := range cluster.MismatchOutliers(k.members, MinGeoOutliers) {
			for _, id := range o.Mismatched {
				if flaggable(status[id]) && u.Flag[id] == "" {
					u.Flag[id] = fmt.Sprintf("one of %d entries from one %s whose network is in another country "+
						"than the device's time zone (%d entries have this %s; about %.1f such were expected)",
						len(o.Mismatched), k.what, o.Size, k.what, o.Expected)
				}
			}
		}
	}
	for cid, v := range FarmVerdicts(res, ids, farm, rules) {
		u.Links[cid] = v.Links
	}
	if farmIn == nil {
		return u
	}
	fres := cluster.Analyze(farmOnly, cluster.FarmOptions(clusterOptions))
	kinds := memberKinds(fres, ids, farm)
	row := make(map[string]int, len(rows))
	for i, id := range ids {
		row[id] = i
	}
	for cid, v := range FarmVerdicts(fres, ids, farm, rules) {
		if v.Points == 0 {
			continue
		}
		c, _ := fres.ClusterOf(cid)
		why := farmReason(c.Shape.Size, v)
		for _, id := range c.Members {
			if flaggable(status[id]) && u.Flag[id] == "" && CarriesShape(kinds[row[id]], v.Kinds) {
				u.Farm[id] = why
			}
		}
	}
	return u
}

// flaggable says whether the sweep may still send an entry to review:
// received (drawn groups), or in an ordered group waiting for a slot or
// holding an offer not yet accepted (the store checks the group and the
// offer), since an ordered entry is never "received".
func flaggable(s lottery.EntryStatus) bool {
	return s == lottery.EntryReceived || s == lottery.EntryWaitlisted || s == lottery.EntryOffered
}

// RecomputeAllClusters runs RecomputeClusters for every event still taking
// or reviewing entries.
func (s *Service) RecomputeAllClusters(ctx context.Context) (int, error) {
	evs, err := s.store.OpenEvents(ctx)
	if err != nil {
		return 0, fmt.Errorf("clusters: %w", err)
	}
	total := 0
	for _, ev := range evs {
		n, err := s.RecomputeClusters(ctx, ev)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}
