//! The report as an Excel workbook, for the command's own spreadsheets.
//!
//! One function per worksheet, in the workbook's order.

use crate::report::{Report, fmt_n, outcome_zh};
use crate::time::{hm, ymd_hm};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

fn header(ws: &mut Worksheet, cells: &[&str], bold: &Format) -> Result<(), XlsxError> {
    for (c, h) in cells.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, bold)?;
        ws.set_column_width(c as u16, 16)?;
    }
    Ok(())
}

fn put(ws: &mut Worksheet, r: u32, cells: &[String]) -> Result<(), XlsxError> {
    for (c, v) in cells.iter().enumerate() {
        ws.write_string(r, c as u16, v)?;
    }
    Ok(())
}

/// Writes the workbook to memory.
pub(crate) fn render(r: &Report) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    overview(&mut wb, r, &bold)?;
    communities(&mut wb, r, &bold)?;
    timeline(&mut wb, r, &bold)?;
    decisions(&mut wb, r, &bold)?;
    isolations_and_controls(&mut wb, r, &bold)?;
    wb.save_to_buffer()
}

/// 概况: one labelled line per figure of the story.
fn overview(wb: &mut Workbook, r: &Report, bold: &Format) -> Result<(), XlsxError> {
    let ws = wb.add_worksheet().set_name("概况")?;
    ws.set_column_width(0, 18)?;
    ws.set_column_width(1, 80)?;
    let mut rows = overview_figures(r);
    rows.extend(overview_follow_ups(r));
    rows.push(("混采节省检测".into(), r.savings.tests_saved.to_string()));
    rows.push(("结论".into(), r.conclusion.clone()));
    for (n, (k, v)) in rows.iter().enumerate() {
        ws.write_string_with_format(n as u32, 0, k, bold)?;
        ws.write_string(n as u32, 1, v)?;
    }
    Ok(())
}

/// The incident, its trigger, the all-clear and the expansion round.
fn overview_figures(r: &Report) -> Vec<(String, String)> {
    let i = &r.incident;
    let mut rows: Vec<(String, String)> = vec![
        ("事件".into(), format!("#{} {}", i.id, i.title)),
        ("区域".into(), i.area.name.clone()),
        ("状态".into(), i.status.label_zh().into()),
        ("事件开启".into(), ymd_hm(i.opened_at)),
    ];
    if let Some(t) = &r.trigger {
        rows.push((
            "触发".into(),
            format!(
                "{} {}（{}混1，{} 人）{}",
                t.site,
                t.barcode,
                t.capacity,
                t.samples,
                t.outcome.map(outcome_zh).unwrap_or("—")
            ),
        ));
    }
    rows.push((
        "全部管控解除".into(),
        r.all_clear_at
            .map(ymd_hm)
            .unwrap_or_else(|| "未解除".into()),
    ));
    rows.push((
        "用时".into(),
        r.time_to_all_clear.clone().unwrap_or_else(|| "—".into()),
    ));
    rows.push(("扩面管数".into(), r.expansion.tubes.to_string()));
    rows.push(("覆盖人数".into(), fmt_n(r.expansion.people)));
    rows.push(("人次".into(), fmt_n(r.expansion.person_times)));
    rows.push(("环境管".into(), r.expansion.env_tubes.to_string()));
    rows.push(("环境点位".into(), r.expansion.env_points.to_string()));
    rows.push((
        "结果".into(),
        if r.all_negative {
            "全部阴性"
        } else {
            "非全部阴性"
        }
        .into(),
    ));
    rows.push(("非阴性管".into(), r.expansion.non_negative.to_string()));
    rows
}

/// The chains, the coverage, the areas alerted, the early lifts and what
/// still blocks.
fn overview_follow_ups(r: &Report) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    for c in &r.chains {
        rows.push((
            c.label(),
            format!(
                "{} {}：{}",
                c.site,
                c.outcome.map(outcome_zh).unwrap_or("—"),
                if c.resolved {
                    "处置链已闭环".to_string()
                } else {
                    c.waiting_for()
                }
            ),
        ));
    }
    for c in &r.coverage {
        rows.push((
            format!("覆盖 {}", c.area.name),
            format!(
                "应检 {}，已采 {}，已说明 {}，缺 {}，覆盖 {}%{}",
                c.roster,
                c.sampled,
                c.accounted,
                c.missing,
                c.percent(),
                if c.lifted { "（已解除）" } else { "" }
            ),
        ));
    }
    if !r.alerted.is_empty() {
        rows.push((
            "推送 成员所在".into(),
            r.alerted
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join("、"),
        ));
    }
    for d in &r.overrides {
        rows.push((
            format!("提前解除 决定 #{}", d.id),
            d.override_reason.clone().unwrap_or_default(),
        ));
    }
    for b in &r.blockers {
        rows.push(("未解除原因".into(), b.clone()));
    }
    rows
}

/// 分社区统计: the expansion round per community, then its total.
fn communities(wb: &mut Workbook, r: &Report, bold: &Format) -> Result<(), XlsxError> {
    let ws = wb.add_worksheet().set_name("分社区统计")?;
    header(
        ws,
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
        bold,
    )?;
    for (n, c) in r.communities.iter().enumerate() {
        let row = n as u32 + 1;
        ws.write_string(row, 0, &c.community)?;
        ws.write_string(row, 1, c.sites.join("、"))?;
        ws.write_number(row, 2, c.counts.person_times as f64)?;
        ws.write_number(row, 3, c.counts.people as f64)?;
        ws.write_number(row, 4, c.counts.tubes as f64)?;
        ws.write_number(row, 5, c.counts.env_tubes as f64)?;
        ws.write_number(row, 6, c.counts.env_points as f64)?;
        ws.write_string(row, 7, c.counts.first_at.map(hm).unwrap_or_default())?;
        ws.write_string(row, 8, c.counts.last_at.map(hm).unwrap_or_default())?;
        ws.write_number(row, 9, c.counts.non_negative as f64)?;
    }
    let row = r.communities.len() as u32 + 1;
    ws.write_string_with_format(row, 0, "合计", bold)?;
    ws.write_number(row, 2, r.expansion.person_times as f64)?;
    ws.write_number(row, 3, r.expansion.people as f64)?;
    ws.write_number(row, 4, r.expansion.tubes as f64)?;
    ws.write_number(row, 5, r.expansion.env_tubes as f64)?;
    ws.write_number(row, 6, r.expansion.env_points as f64)?;
    Ok(())
}

/// 时间线: every line of the incident and its cascades.
fn timeline(wb: &mut Workbook, r: &Report, bold: &Format) -> Result<(), XlsxError> {
    let ws = wb.add_worksheet().set_name("时间线")?;
    header(ws, &["时间", "事件", "类别", "内容", "记录人"], bold)?;
    ws.set_column_width(3, 70)?;
    for (n, e) in r.timeline.iter().enumerate() {
        put(
            ws,
            n as u32 + 1,
            &[
                ymd_hm(e.at),
                format!("#{}", e.incident),
                e.kind.label_zh().into(),
                e.text.clone(),
                e.actor.clone(),
            ],
        )?;
    }
    Ok(())
}

/// 决定: who proposed each decision, who confirmed it, in which role.
fn decisions(wb: &mut Workbook, r: &Report, bold: &Format) -> Result<(), XlsxError> {
    let ws = wb.add_worksheet().set_name("决定")?;
    header(
        ws,
        &[
            "#",
            "决定",
            "对象",
            "依据",
            "提出时间",
            "提出人",
            "状态",
            "确认时间",
            "确认人",
            "角色",
        ],
        bold,
    )?;
    for (n, d) in r.decisions.iter().enumerate() {
        put(
            ws,
            n as u32 + 1,
            &[
                d.id.to_string(),
                d.kind.label_zh().into(),
                d.person
                    .as_ref()
                    .map(|p| p.name.clone())
                    .unwrap_or_default(),
                d.reason.clone(),
                ymd_hm(d.proposed_at),
                d.proposed_by.clone(),
                d.status.label_zh().into(),
                d.decided_at.map(ymd_hm).unwrap_or_default(),
                d.decided_by.clone().unwrap_or_default(),
                d.decided_role
                    .map(|r| r.label_zh().to_string())
                    .unwrap_or_default(),
            ],
        )?;
    }
    Ok(())
}

/// 隔离与管控: the static controls, then everyone on home isolation.
fn isolations_and_controls(wb: &mut Workbook, r: &Report, bold: &Format) -> Result<(), XlsxError> {
    let ws = wb.add_worksheet().set_name("隔离与管控")?;
    header(
        ws,
        &["措施", "对象", "证件号", "开始", "结束/解除", "原因"],
        bold,
    )?;
    let mut n = 1;
    for o in &r.controls {
        put(
            ws,
            n,
            &[
                o.kind.label_zh().into(),
                o.area.as_ref().map(|a| a.name.clone()).unwrap_or_default(),
                String::new(),
                ymd_hm(o.starts_at),
                o.lifted_at.map(ymd_hm).unwrap_or_else(|| "未解除".into()),
                o.reason.clone(),
            ],
        )?;
        n += 1;
    }
    for iso in &r.isolations {
        put(
            ws,
            n,
            &[
                format!("{} {} 天", iso.kind.label_zh(), iso.days.unwrap_or(0)),
                iso.person.name.clone(),
                iso.person.document_masked.clone(),
                ymd_hm(iso.starts_at),
                iso.ends_at.map(ymd_hm).unwrap_or_default(),
                iso.reason.clone(),
            ],
        )?;
        n += 1;
    }
    Ok(())
}
