package democity

import "strings"

// isStreet reports whether a township-level name is a sub-district (街道), whose children are urban
// communities (社区) rather than villages.
func isStreet(name string) bool { return strings.HasSuffix(name, "街道") }

// villageNames returns n names, distinct from each other, for the villages of the ti-th township of
// the city. Names are built by arithmetic from common north-west Liaoning name parts: collective-era
// names (红旗村, 胜利村), family settlements (王家窝堡村, 李家杖子村), directional or numbered ones
// (东营子村, 三家子村). Communities under a 街道 get urban names (幸福社区). The same ti always gives the
// same names; different townships may share a village name, as real ones do.
func villageNames(ti int, street bool, n int) []string {
	seen := make(map[string]bool, n)
	out := make([]string, 0, n)
	for k := ti * n; len(out) < n; k++ {
		var name string
		if street {
			name = communityName(k)
		} else {
			name = villageName(k)
		}
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out
}

// villageName builds the k-th rural village name.
func villageName(k int) string {
	collective := []string{
		"红旗", "胜利", "光明", "新立", "团结", "前进", "和平", "东升", "民主", "幸福",
		"友谊", "建国", "新民", "永安", "太平", "兴隆", "富民", "长胜", "五星", "向阳",
	}
	surnames := []string{
		"王家", "李家", "张家", "刘家", "赵家", "孙家", "杨家", "马家", "高家", "于家", "何家", "郭家",
		"韩家", "白家", "包家", "宋家", "陈家", "吴家", "周家", "徐家", "邵家", "佟家", "关家", "罗家",
	}
	places := []string{
		"窝堡", "营子", "屯", "沟", "店", "台", "甸子", "洼", "杖子", "梁", "湾", "井", "房身", "岗",
	}
	directions := []string{"东", "西", "南", "北", "前", "后", "大", "小", "上", "下"}
	numerals := []string{"二", "三", "四", "五", "六", "七", "八", "九", "十", "十二"}
	switch k % 5 {
	case 0:
		return collective[(k/5)%len(collective)] + "村"
	case 1, 3:
		return surnames[(k*7)%len(surnames)] + places[(k*5+k/len(surnames))%len(places)] + "村"
	case 2:
		return directions[(k/5)%len(directions)] + places[(k*3)%len(places)] + "村"
	default:
		return numerals[(k/5)%len(numerals)] + "家子村"
	}
}

// communityName builds the k-th urban community name.
func communityName(k int) string {
	stems := []string{
		"东苑", "西园", "南湖", "北岭", "新兴", "友谊", "幸福", "康乐", "阳光", "锦绣", "福苑", "和谐",
		"春晖", "怡园", "铁西", "矿区", "电厂", "育才", "文苑", "翠园", "滨河", "站北", "民生", "华夏",
	}
	return stems[(k*5)%len(stems)] + "社区"
}
