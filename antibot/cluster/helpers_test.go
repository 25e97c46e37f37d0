package cluster

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

func email(v string) Link { return Link{KindEmail, v} }
func phone(v string) Link { return Link{KindPhone, v} }
func fp(v string) Link    { return Link{KindFingerprint, v} }
func dev(v string) Link   { return Link{KindDevice, v} }

// many returns n entries "<prefix>00".. each carrying links(i).
func many(n int, prefix string, links func(i int) []Link) []Entry {
	es := make([]Entry, n)
	for i := range es {
		es[i] = Entry{ID: fmt.Sprintf("%s%02d", prefix, i), Links: links(i)}
	}
	return es
}

func concat(parts ...[]Entry) []Entry { return slices.Concat(parts...) }

// memberLists returns the members of each cluster, in order.
func memberLists(cs []Cluster) [][]string {
	out := make([][]string, len(cs))
	for i, c := range cs {
		out[i] = c.Members
	}
	return out
}

// singles returns one single-member list per ID, in order.
func singles(ids ...string) [][]string {
	out := make([][]string, len(ids))
	for i, id := range ids {
		out[i] = []string{id}
	}
	return out
}

// ids returns "<prefix>00".."<prefix>(n-1)".
func ids(n int, prefix string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%02d", prefix, i)
	}
	return out
}

// shuffled returns a shuffled copy of es.
func shuffled(es []Entry, rng *rand.Rand) []Entry {
	out := slices.Clone(es)
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// randomEntries draws n entries whose links come from a small value space, so
// chains, repeats, duplicate IDs, empty values and hot keys all occur.
func randomEntries(rng *rand.Rand, n, values int) []Entry {
	kinds := []LinkKind{KindEmail, KindPhone, KindFingerprint, KindDevice, KindIPUA, KindNameBirth}
	es := make([]Entry, n)
	for i := range es {
		es[i].ID = fmt.Sprintf("r%04d", rng.IntN(n*9/10+1))
		for range rng.IntN(5) {
			l := Link{Kind: kinds[rng.IntN(len(kinds))]}
			if rng.IntN(20) > 0 {
				l.Value = fmt.Sprint(rng.IntN(values))
			}
			es[i].Links = append(es[i].Links, l)
		}
	}
	return es
}

// population draws n registrations that look like an event's: mostly
// unrelated runners, households behind one router, a campus NAT, a popular
// default fingerprint, people registering twice, and bot farms sharing
// devices. Every entry carries 5 links.
func population(rng *rand.Rand, n int) []Entry {
	es := make([]Entry, n)
	uas := 40
	for i := range es {
		id := fmt.Sprintf("e%07d", i)
		person := i
		ip := fmt.Sprintf("ip%d", i/4) // households of four behind one router
		ua := fmt.Sprintf("ua%d", rng.IntN(uas))
		fpr := fmt.Sprintf("fp%d", i)
		device := fmt.Sprintf("dev%d", i)
		switch r := rng.IntN(100); {
		case r < 2: // campus NAT, a handful of browsers: hot ip_ua keys
			ip, ua = "campus", fmt.Sprintf("ua%d", rng.IntN(3))
		case r < 5: // a popular default fingerprint: hot
			fpr = "fp-default"
		case r < 8: // a runner registering again with an e-mail variant
			person = rng.IntN(n)
			fpr = fmt.Sprintf("fp%d", person)
		case r < 12: // a bot farm of ~10 entries sharing a device cookie
			farm := rng.IntN(n / 250)
			device = fmt.Sprintf("farm%d", farm)
			ip, ua = fmt.Sprintf("proxy%d", rng.IntN(n)), "ua-bot"
		}
		es[i] = Entry{ID: id, Links: []Link{
			email(fmt.Sprintf("runner%d+%d@example.com", person, i%7)),
			phone(fmt.Sprintf("+8210%08d", person)),
			fp(fpr),
			dev(device),
			IPUALink(ip, ua),
		}}
	}
	return es
}
