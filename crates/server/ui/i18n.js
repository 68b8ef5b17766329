// The one message catalogue of the web UI. Every string a person reads is
// here, in Simplified Chinese (the default) and English; code refers to
// messages by key only. `{name}` marks a parameter.

export const messages = {
  zh: {
    'app.name': '网格筛查',
    'app.tagline': '区域核酸筛查与应急处置',
    'app.skip': '跳到主要内容',
    'app.lang_switch': 'English',
    'app.lang_switch_label': 'Switch to English',
    'app.nav_label': '主导航',
    'app.loading': '正在加载…',
    'app.not_found': '没有这个页面。',
    'app.load_failed': '页面加载失败：{message}',

    'nav.home': '首页',
    'nav.sampler': '采样',
    'nav.lab': '检测机构',
    'nav.login': '登录',

    'login.title': '登录',
    'login.username': '用户名',
    'login.password': '密码',
    'login.submit': '登录',
    'login.failed': '用户名或密码不正确。',
    'login.hint': '演示账号见 README（密码 gridsweep-demo）。',
    'login.signed_in_as': '已登录：{name}',
    'login.sign_out': '退出',

    'home.title': '选择工作',
    'home.intro': '请选择您今天的工作。采样页面离线也能用，恢复网络后自动同步。',
    'home.sampler_desc': '选择轮次和采样点，扫描采样管和受检者证件，满管封管。',
    'home.lab_desc': '扫码收样，逐管录入结果或上传结果表。',
    'home.more': '指挥大屏、事件、网格员和报告页面尚在建设中；事件、覆盖情况和报告现可通过 API 查看（/api/v1/incidents）。',

    'common.online': '在线',
    'common.offline': '离线',
    'common.choose': '请选择…',
    'common.none': '无',
    'common.retry': '重试',
    'common.time': '时间',
    'common.tube': '管码',
    'common.status': '状态',

    'sampler.title': '采样',
    'sampler.setup': '采样设置',
    'sampler.round': '轮次',
    'sampler.round_hint': '只列出进行中的轮次。',
    'sampler.no_rounds': '目前没有进行中的轮次。',
    'sampler.area_level': '区域（第 {n} 级）',
    'sampler.area_hint': '逐级选择区域以缩小采样点范围。',
    'sampler.site': '采样点',
    'sampler.no_sites': '此区域内没有采样点。',
    'sampler.start': '开始采样',
    'sampler.change_setup': '更换轮次或采样点',
    'sampler.setup_locked': '请先封管，再更换轮次或采样点。',
    'sampler.cached': '离线：显示上次保存的列表。',
    'sampler.summary': '{round} · {site}',
    'sampler.scan_tube': '扫描采样管条码',
    'sampler.scan_person': '扫描受检者证件号或健康码',
    'sampler.scan_hint': '扫码枪扫描后自动回车；也可手动输入后按回车。',
    'sampler.doc_kind': '证件类型',
    'sampler.submit': '录入',
    'sampler.seal': '封管',
    'sampler.no_tube': '尚未开管。请扫描一支新的采样管。',
    'sampler.tube_label': '当前采样管',
    'sampler.count': '{n}/{capacity}',
    'sampler.count_label': '已采 {n} 人，容量 {capacity} 人',
    'sampler.scans': '本管已扫描',
    'sampler.no_scans': '还没有扫描任何人。',
    'sampler.opened': '已开管 {tube}（容量 {capacity}）。请扫描受检者。',
    'sampler.added': '已录入 {doc}（{n}/{capacity}）',
    'sampler.full_sealed': '管已满，已封管 {tube}。请扫描下一支采样管。',
    'sampler.sealed': '已封管 {tube}（{n} 人）。请扫描下一支采样管。',
    'sampler.duplicate': '重复：{doc} 已在本管中，未重复录入。',
    'sampler.invalid_id': '证件号无效：{reason}',
    'sampler.invalid_barcode': '条码无效：应为 4–40 位字母、数字或“-”。',
    'sampler.looks_like_id': '这是证件号。请先扫描采样管条码。',
    'sampler.empty_tube': '空管不能封管。',
    'sampler.queue': '同步',
    'sampler.queued_count': '待同步 {n} 条',
    'sampler.all_synced': '全部已同步',
    'sampler.sync_now': '立即同步',
    'sampler.last_sync': '上次同步：{time}',
    'sampler.never_synced': '尚未同步',
    'sampler.sync_failed': '同步失败：{message}',
    'sampler.device': '设备号：{device}',
    'sampler.queued_list': '待同步的操作',
    'sampler.rejections': '服务器拒绝的操作',
    'sampler.no_rejections': '没有被拒绝的操作。',
    'sampler.rejected_scan': '服务器拒绝 {what}：{reason}',
    'sampler.rejection_line': '{what}：',
    'sampler.sealed_pill': '已封管',
    'sampler.offline_note': '离线：操作已保存在本机，恢复网络后自动同步。',

    'level.district': '区县',
    'level.sub_district': '街道/办事处',
    'level.community': '社区/村',
    'level.grid': '网格',
    'level.compound': '小区',
    'level.school': '学校',
    'level.workplace': '单位',
    'level.building': '楼栋',
    'level.household': '户',

    'event.open_tube': '开管 {tube}',
    'event.add_person': '{tube} 录入 {doc}',
    'event.seal_tube': '封管 {tube}',

    'scan.queued': '待同步',
    'scan.pending': '等待前序',
    'scan.accepted': '已同步',
    'scan.rejected': '被拒绝',

    'id.length': '应为 18 位（现为 {n} 位）',
    'id.digits': '第 {pos} 位不是数字',
    'id.region': '地区码 {region} 不存在',
    'id.birth': '出生日期 {date} 不存在',
    'id.check': '校验位错误（应为 {expected}，扫到 {found}）',
    'id.other': '应为 5–20 位字母或数字',
    'id.qr': '健康码格式无法识别',

    'doc.resident_id': '居民身份证',
    'doc.passport': '护照',
    'doc.hk_macau_permit': '港澳通行证/回乡证',
    'doc.taiwan_permit': '台胞证',
    'doc.foreigner_permanent': '外国人永久居留证',
    'doc.other': '其他证件',

    'lab.title': '检测机构',
    'lab.privacy': '本页面只显示管码，不显示受检者姓名和证件号。',
    'lab.receive': '扫码收样',
    'lab.receive_input': '扫描采样管条码',
    'lab.receive_button': '收样',
    'lab.received': '已收样 {tube}',
    'lab.received_list': '本次已收样',
    'lab.none_received': '还没有收样。',
    'lab.result': '录入结果',
    'lab.result_tube': '管码',
    'lab.outcome': '结果',
    'lab.outcome_auto': '按 Ct 值自动判定',
    'lab.ct_orf1ab': 'ORF1ab 基因 Ct 值',
    'lab.ct_n': 'N 基因 Ct 值',
    'lab.ct_hint': '0–60；未检出留空。',
    'lab.correction': '更正已发布的结果',
    'lab.result_button': '提交结果',
    'lab.result_saved': '{tube}：{outcome}',
    'lab.result_unchanged': '{tube}：与已发布结果相同，未改变。',
    'lab.grey_zone': '（灰区：Ct 接近临界值）',
    'lab.results_list': '本次已录入',
    'lab.none_results': '还没有录入结果。',
    'lab.upload': '上传结果表',
    'lab.upload_file': '结果表文件（CSV 或 XLSX）',
    'lab.upload_hint': '表头需含管号，以及结果或 ORF1ab/N 的 Ct 值。',
    'lab.skip_bad': '跳过错误行，导入其余行',
    'lab.upload_button': '上传',
    'lab.upload_none': '请先选择文件。',
    'lab.upload_ok': '已导入 {applied}/{total} 行。',
    'lab.upload_skipped': '跳过的行：{rows}',
    'lab.upload_rejected': '结果表有错误，未导入任何行：',
    'lab.row': '行',
    'lab.column': '列',
    'lab.value': '值',
    'lab.reason': '原因',

    'outcome.negative': '阴性',
    'outcome.suspected': '疑似阳性（初筛）',
    'outcome.positive': '阳性',
    'outcome.invalid': '无效',

    'err.network': '无法连接服务器。',
    'err.duplicate_sample': '此人已在该管中',
    'err.person_unknown': '名册中没有此证件号',
    'err.invalid_identifier': '编号无效',
    'err.tube_unknown': '没有这支采样管',
    'err.tube_exists': '此管码已被使用',
    'err.tube_not_open': '采样管未开启或已封管',
    'err.tube_full': '采样管已满',
    'err.tube_empty': '空管不能封管',
    'err.tube_not_sealed': '采样管尚未封管',
    'err.tube_not_received': '采样管尚未收样',
    'err.already_received': '已经收过样',
    'err.result_conflict': '与已发布结果不同；如需更正请勾选“更正”',
    'err.nothing_to_correct': '没有可更正的结果',
    'err.round_unknown': '没有这个轮次',
    'err.round_closed': '轮次已结束',
    'err.site_unknown': '没有这个采样点',
    'err.bad_capacity': '容量不合规',
    'err.wrong_tube_kind': '管的类型不对',
    'err.invalid_field': '输入有误',
    'err.import_rejected': '文件有错误行',
  },
  en: {
    'app.name': 'gridsweep',
    'app.tagline': 'District screening and outbreak response',
    'app.skip': 'Skip to main content',
    'app.lang_switch': '中文',
    'app.lang_switch_label': '切换到中文',
    'app.nav_label': 'Main navigation',
    'app.loading': 'Loading…',
    'app.not_found': 'There is no such page.',
    'app.load_failed': 'The page failed to load: {message}',

    'nav.home': 'Home',
    'nav.sampler': 'Sampling',
    'nav.login': 'Sign in',

    'login.title': 'Sign in',
    'login.username': 'User name',
    'login.password': 'Password',
    'login.submit': 'Sign in',
    'login.failed': 'Wrong user name or password.',
    'login.hint': 'Demo accounts are listed in the README (password gridsweep-demo).',
    'login.signed_in_as': 'Signed in: {name}',
    'login.sign_out': 'Sign out',
    'nav.lab': 'Lab',

    'home.title': 'Choose your work',
    'home.intro': 'Choose what you are doing today. The sampling page works offline and syncs when the network returns.',
    'home.sampler_desc': 'Pick a round and site, scan the tube and each person, seal when full.',
    'home.lab_desc': 'Receive tubes by scanning, enter results one by one or upload a result sheet.',
    'home.more': 'The command dashboard, incident, grid-worker and report pages are still being built; incidents, coverage and reports are available through the API (/api/v1/incidents).',

    'common.online': 'Online',
    'common.offline': 'Offline',
    'common.choose': 'Choose…',
    'common.none': 'None',
    'common.retry': 'Retry',
    'common.time': 'Time',
    'common.tube': 'Tube',
    'common.status': 'Status',

    'sampler.title': 'Sampling',
    'sampler.setup': 'Sampling setup',
    'sampler.round': 'Round',
    'sampler.round_hint': 'Only rounds in progress are listed.',
    'sampler.no_rounds': 'No round is in progress.',
    'sampler.area_level': 'Area (level {n})',
    'sampler.area_hint': 'Narrow down the sites level by level.',
    'sampler.site': 'Sampling site',
    'sampler.no_sites': 'No sampling site in this area.',
    'sampler.start': 'Start sampling',
    'sampler.change_setup': 'Change round or site',
    'sampler.setup_locked': 'Seal the tube before changing round or site.',
    'sampler.cached': 'Offline: showing the lists saved last time.',
    'sampler.summary': '{round} · {site}',
    'sampler.scan_tube': 'Scan the tube barcode',
    'sampler.scan_person': 'Scan the person\'s ID or health code',
    'sampler.scan_hint': 'A hand scanner sends Enter by itself; or type and press Enter.',
    'sampler.doc_kind': 'Document type',
    'sampler.submit': 'Add',
    'sampler.seal': 'Seal tube',
    'sampler.no_tube': 'No tube open. Scan a new tube.',
    'sampler.tube_label': 'Current tube',
    'sampler.count': '{n}/{capacity}',
    'sampler.count_label': '{n} people of {capacity}',
    'sampler.scans': 'Scanned into this tube',
    'sampler.no_scans': 'Nobody scanned yet.',
    'sampler.opened': 'Opened {tube} (capacity {capacity}). Scan the people.',
    'sampler.added': 'Added {doc} ({n}/{capacity})',
    'sampler.full_sealed': 'Tube full: {tube} sealed. Scan the next tube.',
    'sampler.sealed': 'Sealed {tube} ({n} people). Scan the next tube.',
    'sampler.duplicate': 'Duplicate: {doc} is already in this tube; not added again.',
    'sampler.invalid_id': 'Invalid ID: {reason}',
    'sampler.invalid_barcode': 'Invalid barcode: 4–40 letters, digits or "-".',
    'sampler.looks_like_id': 'That is an ID number. Scan the tube barcode first.',
    'sampler.empty_tube': 'An empty tube cannot be sealed.',
    'sampler.queue': 'Sync',
    'sampler.queued_count': '{n} waiting to sync',
    'sampler.all_synced': 'Everything synced',
    'sampler.sync_now': 'Sync now',
    'sampler.last_sync': 'Last sync: {time}',
    'sampler.never_synced': 'Not synced yet',
    'sampler.sync_failed': 'Sync failed: {message}',
    'sampler.device': 'Device: {device}',
    'sampler.queued_list': 'Waiting to sync',
    'sampler.rejections': 'Refused by the server',
    'sampler.no_rejections': 'Nothing refused.',
    'sampler.rejected_scan': 'Server refused {what}: {reason}',
    'sampler.rejection_line': '{what}: ',
    'sampler.sealed_pill': 'sealed',
    'sampler.offline_note': 'Offline: your scans are saved on this device and sync when the network returns.',

    'level.district': 'District',
    'level.sub_district': 'Sub-district',
    'level.community': 'Community / village',
    'level.grid': 'Grid cell',
    'level.compound': 'Compound',
    'level.school': 'School',
    'level.workplace': 'Workplace',
    'level.building': 'Building',
    'level.household': 'Household',

    'event.open_tube': 'open {tube}',
    'event.add_person': '{doc} into {tube}',
    'event.seal_tube': 'seal {tube}',

    'scan.queued': 'queued',
    'scan.pending': 'waiting',
    'scan.accepted': 'synced',
    'scan.rejected': 'refused',

    'id.length': 'must be 18 characters (got {n})',
    'id.digits': 'character {pos} is not a digit',
    'id.region': 'region code {region} does not exist',
    'id.birth': 'birth date {date} does not exist',
    'id.check': 'wrong check digit (expected {expected}, scanned {found})',
    'id.other': 'must be 5–20 letters or digits',
    'id.qr': 'health code not recognised',

    'doc.resident_id': 'Resident ID',
    'doc.passport': 'Passport',
    'doc.hk_macau_permit': 'HK/Macau permit',
    'doc.taiwan_permit': 'Taiwan permit',
    'doc.foreigner_permanent': 'Foreigner permanent residence',
    'doc.other': 'Other document',

    'lab.title': 'Lab',
    'lab.privacy': 'This page shows tube barcodes only, never names or ID numbers.',
    'lab.receive': 'Receive tubes',
    'lab.receive_input': 'Scan the tube barcode',
    'lab.receive_button': 'Receive',
    'lab.received': 'Received {tube}',
    'lab.received_list': 'Received in this session',
    'lab.none_received': 'Nothing received yet.',
    'lab.result': 'Enter a result',
    'lab.result_tube': 'Tube',
    'lab.outcome': 'Outcome',
    'lab.outcome_auto': 'From the Ct values',
    'lab.ct_orf1ab': 'Ct ORF1ab',
    'lab.ct_n': 'Ct N',
    'lab.ct_hint': '0–60; leave empty if not detected.',
    'lab.correction': 'Correct a published result',
    'lab.result_button': 'Post result',
    'lab.result_saved': '{tube}: {outcome}',
    'lab.result_unchanged': '{tube}: same as the published result; nothing changed.',
    'lab.grey_zone': ' (grey zone: Ct near the cut-off)',
    'lab.results_list': 'Posted in this session',
    'lab.none_results': 'No result posted yet.',
    'lab.upload': 'Upload a result sheet',
    'lab.upload_file': 'Result sheet (CSV or XLSX)',
    'lab.upload_hint': 'Needs a tube column and an outcome or Ct ORF1ab/N columns.',
    'lab.skip_bad': 'Skip bad rows and import the rest',
    'lab.upload_button': 'Upload',
    'lab.upload_none': 'Choose a file first.',
    'lab.upload_ok': 'Imported {applied} of {total} rows.',
    'lab.upload_skipped': 'Rows skipped: {rows}',
    'lab.upload_rejected': 'The sheet has errors; no row was imported:',
    'lab.row': 'Row',
    'lab.column': 'Column',
    'lab.value': 'Value',
    'lab.reason': 'Reason',

    'outcome.negative': 'negative',
    'outcome.suspected': 'suspected (initial screen)',
    'outcome.positive': 'positive',
    'outcome.invalid': 'invalid',

    'err.network': 'Cannot reach the server.',
    'err.duplicate_sample': 'this person is already in the tube',
    'err.person_unknown': 'no one on the roster has this ID',
    'err.invalid_identifier': 'invalid identifier',
    'err.tube_unknown': 'no such tube',
    'err.tube_exists': 'this barcode is already in use',
    'err.tube_not_open': 'the tube is not open (sealed?)',
    'err.tube_full': 'the tube is full',
    'err.tube_empty': 'an empty tube cannot be sealed',
    'err.tube_not_sealed': 'the tube is not sealed yet',
    'err.tube_not_received': 'the tube has not been received',
    'err.already_received': 'already received',
    'err.result_conflict': 'differs from the published result; tick "correct" to replace it',
    'err.nothing_to_correct': 'there is no result to correct',
    'err.round_unknown': 'no such round',
    'err.round_closed': 'the round has ended',
    'err.site_unknown': 'no such site',
    'err.bad_capacity': 'capacity not allowed',
    'err.wrong_tube_kind': 'wrong kind of tube',
    'err.invalid_field': 'invalid input',
    'err.import_rejected': 'the file has bad rows',
  },
};

const KEY = 'gridsweep.lang';
const store = typeof localStorage === 'undefined' ? null : localStorage;
let current = store && store.getItem(KEY) in messages ? store.getItem(KEY) : 'zh';
const listeners = new Set();

/** The language in use: `zh` or `en`. */
export function lang() {
  return current;
}

/** Switches language, remembers it, and tells every listener. */
export function setLang(l) {
  if (!(l in messages)) return;
  current = l;
  if (store) store.setItem(KEY, l);
  applyDocumentLang();
  for (const f of listeners) f(l);
}

/** Sets `<html lang>` to the current language. */
export function applyDocumentLang() {
  if (typeof document !== 'undefined') {
    document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';
  }
}

/** Calls `f` after each language switch; returns an unsubscribe. */
export function onLangChange(f) {
  listeners.add(f);
  return () => listeners.delete(f);
}

/** The message `key` in the current language, with `{params}` filled in. */
export function t(key, params = {}) {
  const s = messages[current][key] ?? messages.zh[key];
  if (s === undefined) {
    console.warn(`i18n: no message ${key}`);
    return key;
  }
  return s.replace(/\{(\w+)\}/g, (_, k) => (k in params ? String(params[k]) : `{${k}}`));
}

/** Whether the catalogue has `key`. */
export function has(key) {
  return key in messages[current];
}

/** A server error in words: the catalogue's text for its stable code, else
 * the server's own message. */
export function errorText(code, fallback) {
  return has(`err.${code}`) ? t(`err.${code}`) : fallback || code;
}

/** A time of day in the current locale. */
export function formatTime(d) {
  return new Date(d).toLocaleTimeString(current === 'zh' ? 'zh-CN' : 'en-GB', { hour12: false });
}
