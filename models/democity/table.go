package democity

// cityCode is the fictional GB/T 2260 prefix of the demo city. Real Liaoning prefecture codes run from
// 2101 to 2114, so 2115 cannot be mistaken for a real place.
const cityCode = "2115"

// cityName is the Chinese name of the demo city.
const cityName = "北山市"

// cityLat and cityLon are the centre of the demo city (WGS-84), in north-west Liaoning (辽西北).
const (
	cityLat = 42.02
	cityLon = 121.65
)

// countySpec describes one county-level division and its township-level units, by category. The
// category decides the township code range (GB/T 10114 style): 街道 001–099, 镇 101–199, 乡 201–399,
// farms and forest farms (场) 401–499.
type countySpec struct {
	code     string
	name     string
	lat, lon float64 // centre of the county seat
	latR     float64 // radius, in degrees of latitude, of the area the townships spread over
	lonR     float64 // radius, in degrees of longitude
	streets  []string
	towns    []string
	xiang    []string
	farms    []string
}

// countyTable returns the 8 county-level divisions of the demo city (2 districts, 4 counties, one of
// them a Mongolian autonomous county, and 2 county-level cities) with their 176 township-level units.
// It builds a fresh value on each call, so nothing is shared between callers.
func countyTable() []countySpec {
	return []countySpec{
		{
			code: "211502", name: "振兴区", lat: 42.035, lon: 121.680, latR: 0.045, lonR: 0.06,
			streets: []string{"解放街道", "人民街道", "站前街道", "新华街道", "胜利街道", "和平街道", "光明街道", "工人村街道"},
			towns:   []string{"长营子镇", "四合镇"},
		},
		{
			code: "211503", name: "河西区", lat: 41.985, lon: 121.575, latR: 0.05, lonR: 0.065,
			streets: []string{"河西街道", "西山街道", "向阳街道", "文化路街道", "五龙街道"},
			towns:   []string{"水泉镇", "黄家店镇", "韩家沟镇"},
			xiang:   []string{"红帽子乡", "西营子乡"},
		},
		{
			code: "211521", name: "青河县", lat: 42.36, lon: 121.35, latR: 0.17, lonR: 0.22,
			towns: []string{
				"青河镇", "八家子镇", "大巴镇", "泡子镇", "塔营子镇", "七家子镇", "四合城镇", "沙拉镇",
				"王府镇", "老河土镇", "大固本镇", "于寺镇", "东梁镇", "十家子镇", "哈尔套镇",
			},
			xiang: []string{
				"招束沟乡", "福兴地乡", "紫都台乡", "佛寺乡", "卧凤沟乡", "苍土乡", "旧庙乡", "国华乡",
				"阿金乡", "大板乡", "九官台乡", "后新秋乡",
			},
			farms: []string{"北甸子农场"},
		},
		{
			code: "211522", name: "康北县", lat: 42.00, lon: 122.18, latR: 0.16, lonR: 0.21,
			towns: []string{
				"康北镇", "二道河子镇", "三家子镇", "前进镇", "东升镇", "太平镇", "长兴镇", "永丰镇",
				"双庙镇", "万家镇", "高山子镇", "柳河沟镇", "张家湾镇",
			},
			xiang: []string{
				"榆树林子乡", "杏树园子乡", "梨树沟乡", "桃花吐乡", "松山乡", "李家屯乡", "马家屯乡",
				"刘家店乡", "山嘴子乡", "石门乡",
			},
			farms: []string{"康北种畜场"},
		},
		{
			code: "211523", name: "建安县", lat: 41.76, lon: 121.28, latR: 0.16, lonR: 0.22,
			towns: []string{
				"建安镇", "大屯镇", "小城子镇", "石佛镇", "双河镇", "三道岭镇", "望海镇", "凉水井子镇",
				"热水汤镇", "朝阳沟镇", "兴隆洼镇", "德胜镇", "富山镇", "古城子镇",
			},
			xiang: []string{
				"丰收乡", "五一乡", "联合乡", "公营子乡", "大庙乡", "小庙子乡", "汤头乡", "河坎子乡",
				"梁家营子乡", "头道营子乡", "石人沟乡",
			},
			farms: []string{"建安果树农场"},
		},
		{
			code: "211524", name: "北山蒙古族自治县", lat: 42.34, lon: 122.00, latR: 0.17, lonR: 0.22,
			towns: []string{
				"蒙古营子镇", "哈达户稍镇", "扎兰营子镇", "务欢池镇", "他本扎兰镇", "查干哈达镇",
				"巴图营子镇", "白音昌镇", "哈达图镇", "喇嘛营子镇", "大五家子镇", "化石戈镇",
				"红石砬子镇", "黑城子镇", "白塔子镇", "敖汉营子镇", "二十家子镇", "八面城镇",
			},
			xiang: []string{
				"宝力根乡", "那木斯蒙古族乡", "乌兰木图乡", "巴彦塔拉蒙古族乡", "昂帮乡", "好来宝乡",
				"沙扎兰乡", "碱巴拉乡", "东沙拉乡", "四官营子乡", "木头城子乡", "羊山乡", "金厂沟乡",
			},
			farms: []string{"乌兰林场", "巴彦种羊场"},
		},
		{
			code: "211581", name: "新屯市", lat: 41.74, lon: 121.92, latR: 0.16, lonR: 0.21,
			streets: []string{"城关街道", "新屯街道", "北苑街道", "河东街道"},
			towns: []string{
				"大平房镇", "马营子镇", "驼山镇", "凤凰山镇", "龙潭镇", "虎头山镇", "黄土坎镇",
				"青石岭镇", "玉田镇", "富贵镇", "常胜镇", "六官营子镇",
			},
			xiang: []string{"獾子洞乡", "铁营子乡", "银洞子乡", "珠山乡", "长宝乡", "鹰窝山乡"},
			farms: []string{"东湖农场"},
		},
		{
			code: "211582", name: "双岭市", lat: 42.08, lon: 120.88, latR: 0.17, lonR: 0.22,
			streets: []string{"双岭街道", "兴隆街道", "长青街道"},
			towns: []string{
				"南八家子镇", "西六家子镇", "东大营子镇", "大冷镇", "温泉镇", "北四家子镇", "甸子镇",
				"后坟镇", "牛河梁镇", "城子地镇", "木匠营子镇",
			},
			xiang: []string{"白土营子乡", "杨家营子乡", "王家窝堡乡", "万宝乡", "尚志乡", "哈尔脑乡", "大杖子乡"},
			farms: []string{"双岭林场"},
		},
	}
}
