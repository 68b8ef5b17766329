//! The report as one self-contained HTML page, Chinese labels.
//!
//! One function per section of the page, in the order the page shows
//! them; each section opens with its heading and closes its own table.

use crate::report::{Report, fmt_n, outcome_zh};
use crate::time::ymd_hm;
use std::fmt::Write;

/// Escapes text for HTML element content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn row(s: &mut String, cells: &[String]) {
    s.push_str("<tr>");
    for c in cells {
        let _ = write!(s, "<td>{}</td>", esc(c));
    }
    s.push_str("</tr>\n");
}

fn head(s: &mut String, cells: &[&str]) {
    s.push_str("<table><thead><tr>");
    for c in cells {
        let _ = write!(s, "<th>{}</th>", esc(c));
    }
    s.push_str("</tr></thead><tbody>\n");
}

/// A section's heading and the head of its table.
fn open_section(s: &mut String, title: &str, cells: &[&str]) {
    let _ = writeln!(s, "<h2>{title}</h2>");
    head(s, cells);
}

/// Closes the table a section opened.
fn close_table(s: &mut String) {
    s.push_str("</tbody></table>\n");
}

/// Renders the page.
pub(crate) fn render(r: &Report) -> String {
    let mut s = String::new();
    page_head(&mut s, r);
    summary(&mut s, r);
    mobilisation(&mut s, r);
    communities(&mut s, r);
    chains(&mut s, r);
    coverage(&mut s, r);
    controls(&mut s, r);
    retests(&mut s, r);
    isolations(&mut s, r);
    decisions(&mut s, r);
    cascades(&mut s, r);
    tasks(&mut s, r);
    timeline(&mut s, r);
    s.push_str("</body></html>\n");
    s
}

/// The document head with its style, the title and the conclusion.
fn page_head(s: &mut String, r: &Report) {
    let i = &r.incident;
    let _ = write!(
        s,
        "<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>事件报告 #{id} {title}</title><style>\
         body{{font-family:system-ui,'PingFang SC','Noto Sans CJK SC',sans-serif;margin:2rem;color:#222;max-width:70rem}}\
         table{{border-collapse:collapse;margin:.5rem 0 1.5rem;width:100%}}\
         th,td{{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}}\
         th{{background:#f2f2f2}} .big{{font-size:1.3rem;font-weight:600}} .ok{{color:#1a7f37}} .warn{{color:#b42318}}\
         dl{{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}} dt{{color:#666}}\
         </style></head><body>\n",
        id = i.id,
        title = esc(&i.title)
    );
    let _ = write!(
        s,
        "<h1>事件报告 #{} {}</h1>\n<p class=\"big {}\">{}</p>\n",
        i.id,
        esc(&i.title),
        if r.all_clear_at.is_some() {
            "ok"
        } else {
            "warn"
        },
        esc(&r.conclusion)
    );
}

/// The figures of the story as a definition list.
fn summary(s: &mut String, r: &Report) {
    let i = &r.incident;
    s.push_str("<dl>");
    let mut dl = |k: &str, v: String| {
        let _ = write!(s, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(&v));
    };
    dl("区域", i.area.name.clone());
    dl("状态", i.status.label_zh().to_string());
    dl("事件开启", ymd_hm(i.opened_at));
    if let Some(t) = &r.trigger {
        dl(
            "触发",
            format!(
                "{} 采样管 {}（{}混1，{} 人）{}",
                t.site,
                t.barcode,
                t.capacity,
                t.samples,
                t.outcome.map(outcome_zh).unwrap_or("—")
            ),
        );
    }
    dl(
        "全部管控解除",
        r.all_clear_at
            .map(ymd_hm)
            .unwrap_or_else(|| "未解除".into()),
    );
    dl(
        "用时",
        r.time_to_all_clear.clone().unwrap_or_else(|| "—".into()),
    );
    dl(
        "扩面筛查",
        format!(
            "{} 管 {}混1，覆盖 {} 人（{} 人次）；环境 {} 管 {} 个点位；{}",
            r.expansion.tubes,
            r.pool,
            fmt_n(r.expansion.people),
            fmt_n(r.expansion.person_times),
            r.expansion.env_tubes,
            r.expansion.env_points,
            if r.all_negative {
                "全部阴性"
            } else {
                "非全部阴性"
            }
        ),
    );
    dl(
        "混采节省",
        format!(
            "{} 管（{:.1}%）",
            fmt_n(r.savings.tests_saved.max(0) as u64),
            r.savings.fraction_saved * 100.0
        ),
    );
    s.push_str("</dl>\n");
}

/// When each grid level reported in place.
fn mobilisation(s: &mut String, r: &Report) {
    open_section(s, "三级网格到位", &["层级", "到位时间", "报告人"]);
    for m in &r.mobilisation {
        row(s, &[m.label.clone(), r.clock(m.at), m.by.clone()]);
    }
    close_table(s);
}

/// The expansion round per community, then its total.
fn communities(s: &mut String, r: &Report) {
    open_section(
        s,
        "分社区统计",
        &[
            "社区",
            "采样点",
            "人次",
            "人数",
            "管数",
            "环境管",
            "点位",
            "开始",
            "完成",
            "非阴性",
        ],
    );
    for c in &r.communities {
        let k = &c.counts;
        row(
            s,
            &[
                c.community.clone(),
                c.sites.join("、"),
                fmt_n(k.person_times),
                fmt_n(k.people),
                k.tubes.to_string(),
                k.env_tubes.to_string(),
                k.env_points.to_string(),
                r.opt_clock(k.first_at),
                r.opt_clock(k.last_at),
                k.non_negative.to_string(),
            ],
        );
    }
    let e = &r.expansion;
    row(
        s,
        &[
            "合计".into(),
            String::new(),
            fmt_n(e.person_times),
            fmt_n(e.people),
            e.tubes.to_string(),
            e.env_tubes.to_string(),
            e.env_points.to_string(),
            r.opt_clock(e.first_at),
            r.opt_clock(e.last_at),
            e.non_negative.to_string(),
        ],
    );
    close_table(s);
}

/// Every non-negative tube and whether its chain of follow-ups is closed.
fn chains(s: &mut String, r: &Report) {
    open_section(
        s,
        "非阴性管处置链",
        &["管", "采样点", "结果", "人数", "处置"],
    );
    for c in &r.chains {
        row(
            s,
            &[
                c.label(),
                c.site.clone(),
                c.outcome.map(outcome_zh).unwrap_or("—").to_string(),
                if c.persons > 0 {
                    c.persons.to_string()
                } else {
                    "环境点位".to_string()
                },
                if c.resolved {
                    "处置链已闭环".to_string()
                } else {
                    c.waiting_for()
                },
            ],
        );
    }
    close_table(s);
}

/// Coverage of the controlled compounds, followed by the notes that go
/// with it (areas alerted, lifts below the requirement, what blocks).
fn coverage(s: &mut String, r: &Report) {
    open_section(
        s,
        "管控区域覆盖",
        &["小区/单位", "应检", "已采", "已说明", "缺", "覆盖", "管控"],
    );
    for c in &r.coverage {
        row(
            s,
            &[
                c.area.name.clone(),
                fmt_n(c.roster),
                fmt_n(c.sampled),
                fmt_n(c.accounted),
                fmt_n(c.missing),
                format!("{}%", c.percent()),
                if c.lifted { "已解除" } else { "管控中" }.to_string(),
            ],
        );
    }
    coverage_notes(s, r);
    close_table(s);
}

/// Each note closes the coverage table and opens an empty one after it,
/// so the page keeps one table per section around the notes.
fn coverage_notes(s: &mut String, r: &Report) {
    if !r.alerted.is_empty() {
        let _ = write!(
            s,
            "</tbody></table>\n<p>推送 成员所在街道/社区：{}</p>\n<table><tbody>",
            esc(&r
                .alerted
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join("、"))
        );
    }
    for d in &r.overrides {
        let _ = write!(
            s,
            "</tbody></table>\n<p class=\"warn\">覆盖率未达标提前解除（决定 #{}，{}）：{}</p>\n<table><tbody>",
            d.id,
            esc(d.decided_by.as_deref().unwrap_or("")),
            esc(d.override_reason.as_deref().unwrap_or(""))
        );
    }
    for b in &r.blockers {
        let _ = write!(
            s,
            "</tbody></table>\n<p class=\"warn\">未解除原因：{}</p>\n<table><tbody>",
            esc(b)
        );
    }
}

/// The static controls and their lifts.
fn controls(s: &mut String, r: &Report) {
    open_section(
        s,
        "管控",
        &["事件", "管控", "对象", "开始", "解除", "解除人", "原因"],
    );
    for o in &r.controls {
        row(
            s,
            &[
                format!("#{}", o.incident),
                o.kind.label_zh().into(),
                o.area.as_ref().map(|a| a.name.clone()).unwrap_or_default(),
                r.clock(o.starts_at),
                r.opt_clock(o.lifted_at),
                o.lifted_by.clone().unwrap_or_default(),
                o.reason.clone(),
            ],
        );
    }
    close_table(s);
}

/// The members' single-tube retests, in one line.
fn retests(s: &mut String, r: &Report) {
    let rt = &r.retests;
    let _ = write!(
        s,
        "<h2>单管复核</h2>\n<p>混管成员 {} 人：阴性 {}，灰区 {}，阳性 {}，待出 {}</p>\n",
        rt.members, rt.negative, rt.grey_zone, rt.positive, rt.pending
    );
}

/// The persons on isolation.
fn isolations(s: &mut String, r: &Report) {
    open_section(
        s,
        "隔离",
        &[
            "姓名",
            "证件号",
            "措施",
            "天数",
            "开始",
            "结束",
            "原因",
            "学校/单位",
        ],
    );
    for iso in &r.isolations {
        row(
            s,
            &[
                iso.person.name.clone(),
                iso.person.document_masked.clone(),
                iso.kind.label_zh().into(),
                iso.days.map(|d| d.to_string()).unwrap_or_default(),
                iso.starts_at.to_rfc3339(),
                iso.ends_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                iso.reason.clone(),
                iso.affiliations.join("、"),
            ],
        );
    }
    close_table(s);
}

/// The decisions: who proposed, who confirmed, in which role.
fn decisions(s: &mut String, r: &Report) {
    open_section(
        s,
        "决定",
        &[
            "#",
            "决定",
            "对象",
            "依据",
            "提出",
            "状态",
            "确认时间",
            "确认人",
            "角色",
        ],
    );
    for d in &r.decisions {
        row(
            s,
            &[
                d.id.to_string(),
                d.kind.label_zh().into(),
                d.person
                    .as_ref()
                    .map(|p| p.name.clone())
                    .unwrap_or_default(),
                d.reason.clone(),
                format!("{} {}", r.clock(d.proposed_at), d.proposed_by),
                d.status.label_zh().into(),
                r.opt_clock(d.decided_at),
                d.decided_by.clone().unwrap_or_default(),
                d.decided_role
                    .map(|r| r.label_zh().to_string())
                    .unwrap_or_default(),
            ],
        );
    }
    close_table(s);
}

/// The cascade incidents, when there are any.
fn cascades(s: &mut String, r: &Report) {
    if r.cascades.is_empty() {
        return;
    }
    open_section(s, "关联事件", &["#", "事件", "病例", "密接", "状态"]);
    for c in &r.cascades {
        row(
            s,
            &[
                c.id.to_string(),
                c.title.clone(),
                c.case.as_ref().map(|p| p.name.clone()).unwrap_or_default(),
                c.contacts.to_string(),
                c.status.label_zh().into(),
            ],
        );
    }
    close_table(s);
}

/// Tasks handed out and done, per kind.
fn tasks(s: &mut String, r: &Report) {
    open_section(s, "任务", &["任务", "下发", "完成"]);
    for (k, n, d) in &r.tasks_by_kind {
        row(s, &[k.label_zh().into(), n.to_string(), d.to_string()]);
    }
    close_table(s);
}

/// Every timeline line of the incident and its cascades.
fn timeline(s: &mut String, r: &Report) {
    open_section(s, "时间线", &["时间", "事件", "类别", "内容", "记录人"]);
    for e in &r.timeline {
        row(
            s,
            &[
                r.clock(e.at),
                format!("#{}", e.incident),
                e.kind.label_zh().into(),
                e.text.clone(),
                e.actor.clone(),
            ],
        );
    }
    close_table(s);
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes() {
        assert_eq!(
            super::esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
