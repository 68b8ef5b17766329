//! The real place names of the 6·13 story, as constants.
//!
//! The drill, the story test and the docs find the story's places by these
//! names, so they are spelled once, here, and never change.

/// The demo district (高新区), root of the demo tree.
pub const DISTRICT: &str = "高新区";

/// Wutong Street sub-district, home of Wawuli community.
pub const WUTONG_SUBDISTRICT: &str = "梧桐街办事处";
/// Wawuli community, where the suspected tube was sampled.
pub const WAWULI_COMMUNITY: &str = "瓦屋李社区";
/// The grid cell of Wawuli community that holds 瓦屋李新居.
pub const WAWULI_GRID_1: &str = "瓦屋李社区第1网格";
/// The compound at the centre of the story (static control at ~03:30).
pub const WAWULI_COMPOUND: &str = "瓦屋李新居";
/// Wawuli community's sampling hut, where the pooled tube came from.
pub const WAWULI_HUT: &str = "瓦屋李核酸采样小屋";
/// Another community of Wutong Street.
pub const FEICUI_COMMUNITY: &str = "翡翠华庭社区";
/// The compound of 翡翠华庭社区 (buildings 1号楼…12号楼).
pub const FEICUI_COMPOUND: &str = "翡翠华庭";
/// Another community of Wutong Street.
pub const XIXI_COMMUNITY: &str = "西溪花园社区";
/// The compound of 西溪花园社区.
pub const XIXI_COMPOUND: &str = "西溪花园";

/// Dongqing Street sub-district.
pub const DONGQING_SUBDISTRICT: &str = "冬青街办事处";
/// The community on Ruida Road holding the gas-pipeline company compound
/// and the No. 37 Middle School.
pub const RUIDA_COMMUNITY: &str = "瑞达路社区";
/// Response site 2: the gas-pipeline company family compound on Ruida Road.
pub const GAS_COMPOUND: &str = "瑞达路燃气管道公司家属院";
/// Response site 3: No. 37 Middle School (a School area).
pub const SCHOOL_37: &str = "高新区第三十七中学";
/// Communities of Dongqing Street.
pub const CHUNTENG_COMMUNITY: &str = "春藤社区";
/// Communities of Dongqing Street.
pub const ZIJIN_COMMUNITY: &str = "紫锦社区";

/// Yulan Street sub-district.
pub const YULAN_SUBDISTRICT: &str = "玉兰街办事处";
/// The community holding 玉兰雅亭.
pub const YULAN_COMMUNITY: &str = "玉兰社区";
/// Response site 4: the 玉兰雅亭 compound.
pub const YULAN_COMPOUND: &str = "玉兰雅亭";
/// The community on Kaixuan Road.
pub const KAIXUAN_COMMUNITY: &str = "凯旋路社区";
/// The pharmaceutical-factory family compound on Kaixuan Road.
pub const PHARMA_FAMILY_COMPOUND: &str = "凯旋路制药厂家属院";
/// Response site 5: the self-built houses around that family compound.
pub const KAIXUAN_SELF_BUILT: &str = "凯旋路制药厂家属院周边自建房";
/// Communities of Yulan Street.
pub const TONGHE_COMMUNITY: &str = "通和社区";
/// Communities of Yulan Street.
pub const ZIZHU_COMMUNITY: &str = "紫竹社区";

/// Shifo sub-district: the villages of the district.
pub const SHIFO_SUBDISTRICT: &str = "石佛办事处";
/// A village of Shifo.
pub const DALI_VILLAGE: &str = "大里村";
/// A village of Shifo.
pub const GOUZHAO_VILLAGE: &str = "沟赵村";
/// A village of Shifo.
pub const WALIU_VILLAGE: &str = "洼刘村";
/// A community of Shifo.
pub const GUANYUE_COMMUNITY: &str = "观悦社区";

/// The university whose student had the slightly elevated Ct at 16:54.
pub const ZZU_SOUTH: &str = "郑州大学南校区";
/// The district's primary school (pupils aged 6–11).
pub const PRIMARY_SCHOOL: &str = "高新区实验小学";

/// The gas-pipeline company (employer of many in its family compound).
pub const GAS_COMPANY: &str = "瑞达路燃气管道公司";
/// The pharmaceutical factory on Kaixuan Road.
pub const PHARMA_FACTORY: &str = "凯旋路制药厂";
/// Other employers of the demo district.
pub const HOSPITAL: &str = "高新区人民医院";
/// Other employers of the demo district.
pub const SCIENCE_PARK: &str = "郑州高新技术产业园";
/// Other employers of the demo district.
pub const SOFTWARE_COMPANY: &str = "数字港软件有限公司";
/// Other employers of the demo district.
pub const LOGISTICS_PARK: &str = "石佛物流园";

/// The five places of the 04:00 full-coverage order, in the story's order.
pub const RESPONSE_SITES: [&str; 5] = [
    WAWULI_COMPOUND,
    GAS_COMPOUND,
    SCHOOL_37,
    YULAN_COMPOUND,
    KAIXUAN_SELF_BUILT,
];

/// The further districts added, in order, when more people than the demo
/// are asked for; beyond these, numbered districts follow.
pub const CITY_DISTRICTS: [&str; 15] = [
    "中原区",
    "二七区",
    "金水区",
    "管城回族区",
    "惠济区",
    "上街区",
    "郑东新区",
    "经开区",
    "航空港区",
    "中牟县",
    "巩义市",
    "荥阳市",
    "新密市",
    "新郑市",
    "登封市",
];
