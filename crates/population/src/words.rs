//! Word lists: realistic Chinese personal names and the place names of
//! generated districts.
//!
//! Surnames are weighted by their share of the population (Henan's top
//! four first); given names follow the fashion of the bearer's birth
//! decade, because a roster where a 70-year-old is called 梓涵 looks fake
//! to anyone who has run a community.

use crate::rng::{Rng, Weighted};

/// Surnames with weights in hundredths of a percent of the population.
#[rustfmt::skip]
const SURNAMES: &[(&str, u32)] = &[
    ("王", 760), ("李", 720), ("张", 700), ("刘", 540), ("陈", 430), ("杨", 330),
    ("赵", 260), ("黄", 180), ("周", 190), ("吴", 170), ("徐", 140), ("孙", 150),
    ("马", 140), ("朱", 120), ("胡", 110), ("郭", 150), ("何", 90), ("林", 70),
    ("高", 120), ("罗", 80), ("郑", 90), ("梁", 80), ("谢", 60), ("宋", 90),
    ("唐", 60), ("许", 70), ("韩", 70), ("冯", 70), ("邓", 50), ("曹", 70),
    ("彭", 50), ("曾", 40), ("肖", 50), ("田", 60), ("董", 60), ("袁", 50),
    ("潘", 40), ("于", 50), ("蒋", 40), ("蔡", 40), ("余", 40), ("杜", 50),
    ("叶", 40), ("程", 50), ("苏", 40), ("魏", 50), ("吕", 40), ("丁", 40),
    ("任", 40), ("沈", 30), ("姚", 40), ("卢", 30), ("姜", 30), ("崔", 40),
    ("钟", 20), ("谭", 20), ("陆", 20), ("汪", 20), ("范", 40), ("金", 20),
    ("石", 30), ("廖", 20), ("贾", 40), ("夏", 20), ("付", 30), ("方", 20),
    ("白", 30), ("邹", 20), ("孟", 40), ("熊", 20), ("秦", 20), ("邱", 20),
    ("江", 20), ("尹", 20), ("薛", 20), ("闫", 30), ("段", 20), ("雷", 20),
    ("侯", 20), ("龙", 10), ("史", 30), ("陶", 10), ("黎", 10), ("贺", 20),
    ("顾", 10), ("毛", 20), ("郝", 20), ("龚", 10), ("邵", 10), ("万", 10),
    ("钱", 10), ("严", 10), ("武", 20), ("戴", 10), ("孔", 20), ("汤", 10),
    ("常", 20), ("牛", 20), ("申", 10), ("乔", 20), ("岳", 10), ("耿", 10),
    ("屈", 5), ("苗", 10), ("翟", 10), ("司", 5), ("左", 5), ("葛", 5),
    ("欧阳", 3), ("司马", 1), ("上官", 1), ("诸葛", 1), ("东方", 1), ("皇甫", 1),
];

/// Given-name characters by gender and birth era (before 1965, 1965–1994,
/// 1995 on).
const MALE_OLD: &[&str] = &[
    "建", "国", "军", "华", "明", "志", "福", "德", "忠", "文", "林", "平", "庆", "春", "保", "成",
    "海", "山", "贵", "金", "荣", "树", "振", "永", "祥", "全", "有", "宝", "新", "民", "胜", "利",
    "章", "根", "发",
];
const MALE_MID: &[&str] = &[
    "伟", "磊", "强", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "鹏", "辉", "峰", "波", "飞",
    "亮", "俊", "鑫", "浩", "帅", "凯", "阳", "龙", "健", "东", "晓", "振", "海", "文", "宏", "志",
    "永", "建", "瑞", "卫", "红", "国",
];
const MALE_YOUNG: &[&str] = &[
    "子", "浩", "宇", "轩", "俊", "泽", "睿", "博", "一", "晨", "航", "铭", "皓", "然", "梓", "奕",
    "天", "嘉", "思", "昊", "逸", "明", "宸", "煜", "鑫", "豪", "凯", "文", "哲", "瑞", "铭", "阳",
    "锦", "乐",
];
const FEMALE_OLD: &[&str] = &[
    "秀", "英", "桂", "兰", "凤", "玉", "珍", "淑", "芳", "华", "梅", "素", "琴", "云", "荣", "香",
    "花", "翠", "霞", "春", "爱", "金", "巧", "菊", "莲", "月",
];
const FEMALE_MID: &[&str] = &[
    "丽", "静", "敏", "燕", "艳", "娟", "霞", "芳", "娜", "红", "玲", "丹", "萍", "婷", "雪", "慧",
    "莉", "晶", "颖", "洁", "琳", "倩", "薇", "媛", "佳", "晓", "蕾", "璐", "亚", "欢",
];
const FEMALE_YOUNG: &[&str] = &[
    "梓", "涵", "欣", "怡", "雨", "萱", "诗", "佳", "可", "馨", "悦", "语", "思", "琪", "一", "诺",
    "若", "汐", "子", "晴", "嘉", "彤", "紫", "妍", "心", "宁", "依", "梦", "瑶", "沐",
];

/// Uyghur-style given names (name·father's name, joined by a middle dot).
const UYGHUR_MALE: &[&str] = &[
    "买买提",
    "艾力",
    "阿不都",
    "吐尔逊",
    "艾买提",
    "努尔",
    "亚森",
    "热合曼",
    "伊力哈木",
    "阿迪力",
    "麦麦提",
    "艾尔肯",
    "吾斯曼",
    "塔依尔",
];
const UYGHUR_FEMALE: &[&str] = &[
    "古丽娜尔",
    "阿依古丽",
    "帕提古丽",
    "热依拉",
    "迪丽努尔",
    "米娜瓦尔",
    "孜拉",
    "阿娜尔",
    "再努尔",
    "阿依努尔",
    "努尔古丽",
];

/// Birth-era buckets for given-name fashion.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Era {
    Old,
    Mid,
    Young,
}

impl Era {
    /// The era of someone born in `year`.
    pub(crate) fn of_birth_year(year: i32) -> Self {
        if year < 1965 {
            Era::Old
        } else if year < 1995 {
            Era::Mid
        } else {
            Era::Young
        }
    }
}

/// Draws personal names.
pub(crate) struct NameGen {
    surnames: Weighted,
}

impl NameGen {
    /// Builds the surname table once per run.
    pub(crate) fn new() -> Self {
        Self {
            surnames: Weighted::new(SURNAMES.iter().map(|&(_, w)| w)),
        }
    }

    /// A surname, as an index that can be passed on to children.
    pub(crate) fn surname(&self, rng: &mut Rng) -> u16 {
        self.surnames.sample(rng) as u16
    }

    /// Appends a Han name (surname + one or two characters) to `out`.
    pub(crate) fn han(&self, rng: &mut Rng, surname: u16, male: bool, era: Era, out: &mut String) {
        out.push_str(SURNAMES[usize::from(surname)].0);
        let pool = match (male, era) {
            (true, Era::Old) => MALE_OLD,
            (true, Era::Mid) => MALE_MID,
            (true, Era::Young) => MALE_YOUNG,
            (false, Era::Old) => FEMALE_OLD,
            (false, Era::Mid) => FEMALE_MID,
            (false, Era::Young) => FEMALE_YOUNG,
        };
        let single = match era {
            Era::Old => 0.08,
            Era::Mid => 0.18,
            Era::Young => 0.08,
        };
        let first = *rng.pick(pool);
        out.push_str(first);
        if rng.chance(single) {
            return;
        }
        // Reduplicated names (婷婷, 欢欢) are common for girls; otherwise
        // avoid a character twice.
        if !male && rng.chance(0.04) {
            out.push_str(first);
            return;
        }
        let mut second = *rng.pick(pool);
        if second == first {
            second = *rng.pick(pool);
        }
        out.push_str(second);
    }

    /// A Uyghur given name (index), to pass on as a child's second part.
    pub(crate) fn uyghur_given(&self, rng: &mut Rng, male: bool) -> u16 {
        let pool = if male { UYGHUR_MALE } else { UYGHUR_FEMALE };
        rng.below(pool.len() as u64) as u16
    }

    /// Appends `own·father` in the Uyghur style to `out`.
    pub(crate) fn uyghur(&self, own: u16, own_male: bool, father: u16, out: &mut String) {
        let pool = if own_male { UYGHUR_MALE } else { UYGHUR_FEMALE };
        out.push_str(pool[usize::from(own) % pool.len()]);
        out.push('·');
        out.push_str(UYGHUR_MALE[usize::from(father) % UYGHUR_MALE.len()]);
    }
}

/// Name stems for generated places.
const COMPOUND_PREFIX: &[&str] = &[
    "锦绣",
    "阳光",
    "金色",
    "翠竹",
    "和谐",
    "幸福",
    "东方",
    "盛世",
    "名门",
    "天伦",
    "绿地",
    "美景",
    "康桥",
    "升龙",
    "亚星",
    "民安",
    "兴华",
    "瑞祥",
    "祥和",
    "春华",
    "碧水",
    "蓝天",
    "金水",
    "中原",
    "嵩山",
    "黄河",
    "紫荆",
    "海棠",
    "丁香",
    "丹桂",
    "牡丹",
    "樱花",
    "银杏",
    "书香",
    "文苑",
    "学府",
    "龙湖",
    "凤凰",
    "锦华",
    "明珠",
    "御景",
    "金域",
    "盛和",
    "博雅",
    "尚品",
    "左岸",
    "绿城",
    "正商",
    "清华",
    "枫林",
    "橄榄",
    "香山",
    "水岸",
    "滨河",
    "万福",
    "百合",
    "新天地",
    "帝湖",
    "英协",
    "绿都",
];
const COMPOUND_SUFFIX: &[&str] = &[
    "花园", "家园", "小区", "苑", "雅居", "华庭", "新城", "公馆", "嘉园", "名苑", "佳苑", "丽景",
    "府", "城", "里", "雅苑", "新村", "公寓", "御府", "上城", "湾", "郡", "庭院", "山庄",
];
const FAMILY_COMPOUND_OWNERS: &[&str] = &[
    "纺织厂",
    "电缆厂",
    "煤矿机械厂",
    "铁路局",
    "粮食局",
    "电业局",
    "第二砂轮厂",
    "水泥厂",
    "烟厂",
    "邮电局",
    "供销社",
    "肉联厂",
    "自来水公司",
    "公交公司",
    "化工厂",
    "轴承厂",
];
const STREET_STEMS: &[&str] = &[
    "林山寨",
    "建设路",
    "棉纺路",
    "秦岭路",
    "桐柏路",
    "三官庙",
    "绿东村",
    "汝河路",
    "须水",
    "航海西路",
    "淮河路",
    "解放路",
    "铭功路",
    "一马路",
    "福华街",
    "德化街",
    "蜜蜂张",
    "五里堡",
    "大学路",
    "嵩山路",
    "京广路",
    "侯寨",
    "马寨",
    "樱桃沟",
    "长江路",
    "人民路",
    "杜岭",
    "花园路",
    "经八路",
    "未来路",
    "丰产路",
    "东风路",
    "南阳路",
    "文化路",
    "丰庆路",
    "北林路",
    "凤凰台",
    "祭城",
    "兴达路",
    "国基路",
    "杨金路",
    "丰乐路",
    "老鸦陈",
    "花园口",
    "刘寨",
    "古荥",
    "迎宾路",
    "长兴路",
    "新城",
    "北下街",
    "西大街",
    "南关",
    "城东路",
    "东大街",
    "紫荆山南路",
    "二里岗",
    "陇海马路",
    "航海东路",
    "十八里河",
    "南曹",
    "圃田",
    "金光路",
    "商都路",
    "博学路",
    "如意湖",
    "龙子湖",
    "白沙",
    "豫兴",
    "龙湖",
    "郑庵",
    "狼城岗",
    "刘集",
    "雁鸣湖",
    "韩寺",
    "官渡",
    "九龙",
    "潮河",
    "明湖",
    "京航",
    "前程",
    "祥云",
    "八岗",
];
const TOWN_STEMS_A: &[&str] = &[
    "东", "西", "南", "北", "中", "新", "兴", "和", "安", "康", "华", "文", "建", "顺", "福", "丰",
    "永", "长", "金", "银", "桐", "柳", "梅", "松", "竹", "桂", "荷", "兰", "锦", "明", "光", "瑞",
    "祥", "泰", "宁", "嘉", "盛", "德", "仁", "朝", "晨", "青", "翠", "紫", "碧",
];
const TOWN_STEMS_B: &[&str] = &[
    "园", "苑", "华", "庄", "桥", "湖", "河", "山", "林", "岗", "坡", "湾", "门", "街", "里", "院",
    "亭", "城", "阳", "泉", "风", "平", "安", "新", "丰", "盛", "和", "兴", "源", "塘",
];
const VILLAGE_FRONT: &[&str] = &[
    "沟", "洼", "岗", "坡", "河", "湖", "桥", "井", "寨", "庙", "店", "楼", "营", "堤", "湾", "台",
    "前", "后", "东", "西", "南", "北", "大", "小", "上", "下", "新", "老", "柿园",
];
const VILLAGE_BACK: &[&str] = &["庄", "寨", "营", "岗", "楼", "湾", "店", "桥", "庙", "集"];
const INDUSTRIES: &[&str] = &[
    "商贸有限公司",
    "物流园",
    "机械厂",
    "食品有限公司",
    "科技有限公司",
    "人民医院",
    "汽车城",
    "电子有限公司",
    "纺织有限公司",
    "建材市场",
    "大酒店",
    "置业有限公司",
    "超市",
    "印刷厂",
    "服装城",
    "软件园",
    "制药有限公司",
    "中心医院",
    "批发市场",
    "环卫所",
];

/// Chinese numerals for the "二期" of a repeated compound name.
const NUMERALS: &[&str] = &["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];

/// Makes place names unique within a scope (a sub-district), so the
/// database's (parent, name) key never clashes and staff never see two
/// 锦绣花园 in one street.
#[derive(Default)]
pub(crate) struct PlaceNames {
    used: std::collections::HashSet<String>,
}

impl PlaceNames {
    /// Forgets the names of the previous scope.
    pub(crate) fn clear(&mut self) {
        self.used.clear();
    }

    /// Returns `candidate` if free, else the first free "二期…" variant.
    fn claim(&mut self, candidate: String) -> String {
        if self.used.insert(candidate.clone()) {
            return candidate;
        }
        let mut n = 2usize;
        loop {
            let phase = if n <= NUMERALS.len() {
                format!("{candidate}{}期", NUMERALS[n - 1])
            } else {
                format!("{candidate}{n}期")
            };
            if self.used.insert(phase.clone()) {
                return phase;
            }
            n += 1;
        }
    }

    /// A residential compound name (锦绣花园, 纺织厂家属院).
    pub(crate) fn compound(&mut self, rng: &mut Rng) -> String {
        let name = if rng.chance(0.08) {
            format!("{}家属院", rng.pick(FAMILY_COMPOUND_OWNERS))
        } else {
            format!("{}{}", rng.pick(COMPOUND_PREFIX), rng.pick(COMPOUND_SUFFIX))
        };
        self.claim(name)
    }

    /// A sub-district: 街道 in a city district, 镇 in a county.
    pub(crate) fn sub_district(&mut self, rng: &mut Rng, county: bool) -> String {
        let stem = if rng.chance(0.6) {
            (*rng.pick(STREET_STEMS)).to_string()
        } else {
            two_characters(rng)
        };
        let suffix = if county && !stem.ends_with('路') && !stem.ends_with('街') {
            if rng.chance(0.7) { "镇" } else { "乡" }
        } else {
            "街道"
        };
        self.claim(format!("{stem}{suffix}"))
    }

    /// An urban community (兴华社区).
    pub(crate) fn community(&mut self, rng: &mut Rng) -> String {
        let stem = two_characters(rng);
        self.claim(format!("{stem}社区"))
    }

    /// A village, shaped like 沟赵村 / 王庄村.
    pub(crate) fn village(&mut self, rng: &mut Rng) -> String {
        let surname = SURNAMES[rng.below(40) as usize].0;
        let name = if rng.chance(0.5) {
            format!("{}{}村", rng.pick(VILLAGE_FRONT), surname)
        } else {
            format!("{}{}村", surname, rng.pick(VILLAGE_BACK))
        };
        self.claim(name)
    }

    /// An employer named after its street (林山寨物流园).
    pub(crate) fn workplace(&mut self, rng: &mut Rng, stem: &str) -> String {
        self.claim(format!("{stem}{}", rng.pick(INDUSTRIES)))
    }

    /// Any fixed name (a school), kept unique in the scope.
    pub(crate) fn fixed(&mut self, name: String) -> String {
        self.claim(name)
    }
}

/// A two-character place stem (兴华, 松林), never the same character twice.
fn two_characters(rng: &mut Rng) -> String {
    let a = *rng.pick(TOWN_STEMS_A);
    let mut b = *rng.pick(TOWN_STEMS_B);
    while b == a {
        b = *rng.pick(TOWN_STEMS_B);
    }
    format!("{a}{b}")
}

/// The part of a sub-district or community name before its suffix
/// (林山寨街道 → 林山寨, 瓦屋李社区 → 瓦屋李), for naming what lies in it.
pub(crate) fn stem(name: &str) -> &str {
    for suffix in ["街道办事处", "办事处", "街道", "社区", "镇", "乡"] {
        if let Some(s) = name.strip_suffix(suffix) {
            return s;
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_look_right() {
        let g = NameGen::new();
        let mut rng = Rng::new(7);
        let mut s = String::new();
        for _ in 0..1_000 {
            s.clear();
            let sn = g.surname(&mut rng);
            let male = rng.chance(0.5);
            g.han(&mut rng, sn, male, Era::Mid, &mut s);
            let n = s.chars().count();
            assert!((2..=4).contains(&n), "{s}");
        }
        s.clear();
        g.uyghur(0, true, 1, &mut s);
        assert_eq!(s, "买买提·艾力");
        s.clear();
        g.uyghur(0, false, 3, &mut s);
        assert_eq!(s, "古丽娜尔·吐尔逊");
    }

    #[test]
    fn place_names_are_unique_in_scope() {
        let mut p = PlaceNames::default();
        let mut rng = Rng::new(1);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..3_000 {
            assert!(seen.insert(p.compound(&mut rng)));
        }
        assert_eq!(stem("瓦屋李社区"), "瓦屋李");
        assert_eq!(stem("梧桐街办事处"), "梧桐街");
        assert_eq!(stem("大里村"), "大里村");
    }
}
