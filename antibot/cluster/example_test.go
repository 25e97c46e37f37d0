package cluster_test

import (
	"fmt"

	"github.com/startline/startline/antibot/cluster"
)

func ExampleAnalyze() {
	router := "198.51.100.23"
	entries := []cluster.Entry{
		// A and B share an e-mail key, B and C a device cookie: one cluster.
		{ID: "A", Links: []cluster.Link{{Kind: cluster.KindEmail, Value: "kim@example.com"}}},
		{ID: "B", Links: []cluster.Link{{Kind: cluster.KindEmail, Value: "kim@example.com"}, {Kind: cluster.KindDevice, Value: "d-41"}}},
		{ID: "C", Links: []cluster.Link{{Kind: cluster.KindDevice, Value: "d-41"}}},
		// Two runners behind the same router with different browsers stay apart.
		{ID: "D", Links: []cluster.Link{cluster.IPUALink(router, "Firefox/140")}},
		{ID: "E", Links: []cluster.Link{cluster.IPUALink(router, "Safari/604")}},
	}
	r := cluster.Analyze(entries, cluster.Options{})
	for _, c := range r.Clusters {
		fmt.Println(c.ID, c.Members, c.Shape.SharedBy)
	}
	// Output:
	// A [A B C] map[device:1 email:1]
	// D [D] map[]
	// E [E] map[]
}
