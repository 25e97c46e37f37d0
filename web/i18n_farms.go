package web

import (
	"fmt"
	"time"

	"github.com/startline/startline/antibot/cluster"
)

// Issue 15, farms seen by what they share: the link kinds of a cluster on
// the reviewer's queue and entry pages (templates/part_cluster_links.html)
// and the farm reason's name.
var farmMessages = map[string]map[string]string{
	"en": {
		"farms.links.title":       "What links these entries",
		"farms.links.help":        "Things a farm cannot vary cheaply. A household shares a card and an address among a few people; a campus shares a mail domain: on their own these are normal.",
		"farms.links.count":       "%d entries in %d group(s)",
		"farms.kind.card":         "share a card",
		"farms.kind.phone_run":    "phone numbers in sequence",
		"farms.kind.rare_domain":  "same rare mail domain",
		"farms.kind.address_unit": "same address but the unit",
		"farms.kind.env_burst":    fmt.Sprintf("same device setup within %d minutes", int(cluster.BurstWindow/time.Minute)),
		"farms.kind.address":      "same pickup address",
		"reason.farm_cluster":     "Linked entries share what a farm shares",
	},
	"ko": {
		"farms.links.title":       "이 신청들을 잇는 것",
		"farms.links.help":        "대량 신청 조직이 싸게 바꿀 수 없는 것들입니다. 한 가족은 몇 사람이 카드와 주소를 함께 쓰고, 한 학교는 메일 도메인을 함께 씁니다. 이것만으로는 정상입니다.",
		"farms.links.count":       "%d건, %d개 묶음",
		"farms.kind.card":         "같은 카드 사용",
		"farms.kind.phone_run":    "연속된 전화번호",
		"farms.kind.rare_domain":  "같은 드문 메일 도메인",
		"farms.kind.address_unit": "호수만 다른 같은 주소",
		"farms.kind.env_burst":    fmt.Sprintf("%d분 안에 같은 기기 설정", int(cluster.BurstWindow/time.Minute)),
		"farms.kind.address":      "같은 수령 주소",
		"reason.farm_cluster":     "연결된 신청들이 대량 신청의 공통점을 가짐",
	},
}

func init() { mergeMessages(messages, farmMessages) }
