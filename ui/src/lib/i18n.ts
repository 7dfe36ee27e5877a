// Every visible string, in zh-CN and en. The language follows the system unless the user picks
// one. Every value the shell sends as a code (errors, sources, events, outcomes...) has a text in
// both languages: the maps below are typed over the generated unions, so a code without a text is
// a compile error.

import type { ErrorCode, EventKind, LinkedBy, Source } from "./backend";
import type { ExportFormat, Outcome } from "./bindings";

const en = {
  "app.name": "Mingpian",
  "tab.code": "My card",
  "tab.scan": "Scan",
  "tab.wallet": "Cards",
  "tab.settings": "Me",
  "tab.newCards": "{n} new",

  "welcome.title": "Swap business cards with one scan",
  "welcome.lead": "Show your code. When someone scans it, you both get each other's cards.",
  "welcome.start": "Create an account",
  "welcome.login": "Log in",
  "welcome.haveAccount": "I already have an account",
  "welcome.newAccount": "New here? Create an account",
  "welcome.step": "Step {n} of 2",
  "welcome.accountTitle": "Create your account",
  "welcome.accountLead": "Your name and mobile number go on your card. You can change them later.",
  "welcome.loginTitle": "Welcome back",
  "welcome.advanced": "Advanced",
  "welcome.server": "Server address",
  "welcome.serverHint": "Only change this if your company runs its own Mingpian server.",
  "welcome.passwordHint": "At least 8 characters",

  "field.name": "Name",
  "field.login": "Mobile, email or name",
  "field.phone": "Mobile",
  "field.phones": "Phone numbers",
  "field.email": "Email",
  "field.emails": "Emails",
  "field.password": "Password",
  "field.org": "Company",
  "field.title": "Job title",
  "field.dept": "Department",
  "field.workPhone": "Office phone",
  "field.url": "Website",
  "field.address": "Address",
  "field.wechat": "WeChat ID",
  "field.note": "Note",
  "field.avatar": "Profile photo",
  "field.cardImage": "Card photo",
  "field.addPhone": "Add a number",
  "field.addEmail": "Add an email",
  "field.remove": "Remove",

  "editor.title": "Edit my card",
  "editor.firstTitle": "Your card",
  "editor.lead": "This is what people get when they scan your code.",
  "editor.template": "Style",
  "editor.tpl.classic": "Classic",
  "editor.tpl.modern": "Business",
  "editor.tpl.ink": "Ink",
  "editor.importVcf": "Fill in from a .vcf file",
  "editor.fromPaper": "Fill in from a paper card",
  "editor.more": "More details",
  "editor.pictures": "Pictures",
  "editor.choosePicture": "Choose a picture",
  "editor.changePicture": "Change",
  "editor.removePicture": "Remove",
  "editor.preview": "Preview",
  "editor.printed": "What your fixed code shows",
  "editor.printedHint": "Anyone can scan a fixed code, so it shows only the details you select here.",
  "editor.save": "Save",
  "editor.saved": "Card saved",
  "editor.skip": "Skip for now",
  "editor.newSet": "New card",
  "editor.create": "Create your card",

  "code.title": "My code",
  "code.live": "Shows your whole card to the person who scans it",
  "code.auto": "This code refreshes automatically, so old screenshots won't work.",
  "code.printedTitle": "Fixed code",
  "code.printedLead": "For printed cards and email signatures. Shows only the details you chose and stays the same until you reset it.",
  "code.fullscreen": "Full screen",
  "code.fullscreenLabel": "Your card code, full screen. Tap to close.",
  "code.qrLabel": "QR code for {name}'s card. Tap to show it full screen.",
  "code.clickToClose": "Click or press Esc to close",
  "code.tapToClose": "Tap anywhere to close",
  "code.saveImage": "Save image",
  "code.share": "Share",
  "code.copyLink": "Copy link",
  "code.copied": "Link copied",
  "code.imageSaved": "Image saved",
  "code.more": "More",
  "code.showPrinted": "Show fixed code",
  "code.showLive": "Back to my code",
  "code.manage": "Manage cards",
  "code.edit": "Edit my card",
  "code.set": "Card {n}",
  "code.choose": "Which card to show",
  "code.reset": "Reset fixed code",
  "code.resetTitle": "Reset the fixed code for “{label}”?",
  "code.resetBody": "Printed cards, signatures and pictures showing the current fixed code will stop working. Cards you've already exchanged aren't affected.",
  "code.resetConfirm": "Reset",
  "code.resetDone": "Fixed code reset. The old one no longer works.",
  "code.waiting": "Hold it up for the other person to scan",
  "code.exchanged": "Cards exchanged with {name}",
  "code.exchangedSub": "Their card is saved in Cards",
  "code.view": "View card",
  "code.done": "Done",
  "code.loadFailed": "Your code could not be loaded",
  "code.retry": "Try again",

  "scan.title": "Scan",
  "scan.camera": "Scan with camera",
  "scan.cameraHint": "Point your camera at their code",
  "scan.fromImage": "Scan a code from a photo",
  "scan.paste": "Paste a link",
  "scan.pasteLabel": "Card link or contact details",
  "scan.go": "Open",
  "scan.noCode": "No card code found in this photo",
  "scan.paper": "Scan a paper card",
  "scan.paperHint": "Read on this device. Nothing is uploaded.",
  "scan.album": "Choose a picture",
  "scan.cancel": "Cancel",
  "scan.scanning": "Scanning…",
  "scan.frameHint": "Fit the code inside the frame",
  "scan.denied": "Mingpian can't use the camera",
  "scan.deniedBody": "To scan card codes, allow camera access for Mingpian in your phone's settings. You can also choose a picture with a code instead.",
  "scan.deniedDesktop": "To scan codes with this computer's camera, allow camera access for Mingpian in the system's privacy settings. You can also choose a picture with a code instead.",
  "scan.openSettings": "Open settings",
  "scan.autoExchange": "Exchange automatically after scanning",
  "scan.autoExchangeHint": "Skips confirmation. Handy at events.",
  "scan.next": "Scan the next one",
  "scan.notCard": "This code isn't a business card",

  "whose.title": "Whose card is this?",
  "whose.via": "From {host}",
  "whose.inCode": "The card's details are inside the code itself",
  "whose.printed": "From a fixed code, so only public details are included.",
  "whose.exchange": "Exchange cards",
  "whose.exchangeHint": "They get your card, you get theirs",
  "whose.saveOnly": "Save only",
  "whose.saveOnlyHint": "Keep their card without sending yours",
  "whose.give": "Card to send",
  "whose.offline": "You're offline. Choose now and it will finish once you're back online.",
  "whose.offlineTitle": "A card code from {host}",

  "done.exchanged": "Cards exchanged with {name}",
  "done.sent": "Your card was sent to them",
  "done.saved": "Saved {name}'s card",
  "done.notSent": "Your card wasn't sent to them",
  "done.linked": "Added to {name}, already in Cards",
  "done.updated": "Updated to their latest card",
  "done.unchanged": "You already had this card",
  "done.pending": "Waiting for a connection",
  "done.pendingBody": "It completes by itself as soon as you are online.",
  "done.printed": "From a fixed code, so only public details are included.",
  "done.addNote": "Add a note",
  "done.finish": "Done",

  "paper.title": "Scan a paper card",
  "paper.front": "Front",
  "paper.back": "Back",
  "paper.takePhoto": "Take a photo",
  "paper.choose": "Choose a photo",
  "paper.pickLeadDesktop": "Choose a photo of the card: the front, and the back if it has one.",
  "paper.pickLead": "Take a photo of the card or choose one from your photos.",
  "paper.finding": "Looking for the card…",
  "paper.frameHint": "Drag the corners onto the card's corners if they are off.",
  "paper.notFound": "Couldn't find the card's edges. Drag the four corners into place.",
  "paper.photo": "Photo of the paper card",
  "paper.frame": "Card outline",
  "paper.corner.tl": "Top-left corner",
  "paper.corner.tr": "Top-right corner",
  "paper.corner.br": "Bottom-right corner",
  "paper.corner.bl": "Bottom-left corner",
  "paper.read": "Read the card",
  "paper.reading": "Reading…",
  "paper.addBack": "Add the back",
  "paper.retake": "Retake",
  "paper.whole": "Whole photo",
  "paper.check": "Check each field, especially phone numbers.",
  "paper.save": "Save to Cards",
  "paper.use": "Fill in my card",
  "paper.backLead": "Now take a photo of the back.",

  "wallet.title": "Cards",
  "wallet.search": "Search cards",
  "wallet.searchLabel": "Search by name, pinyin, initials, company, title, phone or email",
  "wallet.empty": "No cards yet",
  "wallet.emptyHint": "Scan someone's code, or import your contacts from a file.",
  "wallet.count": "{n} contacts",
  "wallet.countOne": "1 contact",
  "wallet.found": "{n} found",
  "wallet.foundOne": "1 found",
  "wallet.noneFound": "No results for “{q}”",
  "wallet.pick": "Choose a contact to see their cards",
  "wallet.new": "New",
  "wallet.newMark": "New",
  "wallet.import": "Import and export",
  "wallet.cards": "{n} cards",
  "wallet.unverified": "Unconfirmed",

  "contact.call": "Call",
  "contact.sms": "Message",
  "contact.mail": "Email",
  "contact.copy": "Copy all",
  "contact.saveToPhone": "Save",
  "contact.savedToPhone": "Saved. Open the file to add it to your contacts.",
  "contact.copied": "Copied",
  "contact.copyHint": "Tap to copy",
  "contact.details": "Details",
  "contact.map": "Open in maps",
  "contact.cards": "Cards",
  "contact.shown": "Main card",
  "contact.showThis": "Make main card",
  "contact.showAuto": "Choose automatically",
  "contact.older": "Earlier versions ({n})",
  "contact.olderHide": "Hide earlier versions",
  "contact.receivedAt": "Received {t}",
  "contact.history": "Exchange history",
  "contact.note": "Note",
  "contact.notePlaceholder": "Where you met, what you talked about…",
  "contact.tags": "Tags",
  "contact.tagsPlaceholder": "Separate with commas",
  "contact.save": "Save",
  "contact.saved": "Saved",
  "contact.edit": "Edit",
  "contact.editTitle": "Edit contact",
  "contact.editHint": "Your changes are shown instead of their card, which stays as they sent it.",
  "contact.editReset": "Show their card again",
  "contact.delete": "Delete contact",
  "contact.deleted": "{name} deleted",
  "contact.undo": "Undo",
  "contact.unlink": "Not the same person? Move to a separate contact",
  "contact.unverified": "Sent via the web, so anyone could have typed it. It won't be shown until you confirm it.",
  "contact.accept": "Confirm this card",
  "contact.back": "Back",
  "contact.fromOwnEdit": "Showing your edits",
  "contact.printed": "From a fixed code, so only public details are included.",

  "io.title": "Import and export",
  "io.importTitle": "Import",
  "io.importLead": "Contacts files (.vcf) from phones, Outlook or Gmail, and spreadsheets (.csv). Cards you already have are merged, not duplicated.",
  "io.import": "Choose files",
  "io.importing": "Importing {done} of {total}",
  "io.done": "Import finished",
  "io.summary": "Cards read: {read}",
  "io.added": "new: {n}",
  "io.linked": "added to existing contacts: {n}",
  "io.updated": "updated: {n}",
  "io.unchanged": "already here: {n}",
  "io.errors": "{n} could not be imported:",
  "io.errorsOne": "1 could not be imported:",
  "io.problem": "{file}, card {item}: {message}",
  "io.exportTitle": "Export",
  "io.exportLead": "All your cards in one file.",
  "io.format": "Format",
  "io.saveFile": "Save file",
  "io.shareFile": "Share",
  "io.exported": "Saved to {path}",
  "io.fileName": "Mingpian cards {date}",

  "settings.title": "Me",
  "settings.account": "Account",
  "settings.editCard": "Edit my card",
  "settings.myCards": "My cards",
  "settings.backup": "Backup and sync",
  "settings.backupLead": "Your cards are backed up to your account, so you can restore them on a new phone.",
  "settings.syncNow": "Back up now",
  "settings.lastSync": "Last backed up {t}",
  "settings.never": "Not backed up yet",
  "settings.synced": "Backed up. Sent: {pushed}, received: {pulled}",
  "settings.restore": "Restore from backup",
  "settings.restored": "Restored from backup ({n})",
  "settings.devices": "Logged-in devices",
  "settings.thisDevice": "This device",
  "settings.lastSeen": "Last active {t}",
  "settings.language": "Language",
  "settings.region": "Country or region for phone numbers",
  "settings.regionHint": "Numbers without a country code are treated as local to this country or region.",
  "settings.advanced": "Advanced",
  "settings.server": "Server",
  "settings.logout": "Log out",
  "settings.importExport": "Import and export",
  "lang.auto": "Same as the system",

  "kind.cell": "Mobile",
  "kind.work": "Work",
  "kind.home": "Home",
  "kind.fax": "Fax",
  "kind.other": "Phone",

  "common.cancel": "Cancel",
  "common.close": "Close",
  "common.back": "Back",
  "common.loading": "Loading…",
  "common.dismiss": "Dismiss",
  "common.retry": "Try again",
  "common.more": "More",

  "time.justNow": "just now",
  "time.today": "today at {time}",
  "time.yesterday": "yesterday at {time}",

  "source.exchange": "You scanned their code",
  "source.received": "They scanned your code",
  "source.web": "Sent from the web page",
  "source.scan": "You scanned a contact code",
  "source.import": "Imported from a file",
  "source.manual": "Added by you",
  "source.unknown": "Synced from another device",
  "event.scanned": "You scanned their code",
  "event.received": "They scanned your code",
  "event.web_reply": "They sent their card from the web page",
  "event.scanned_vcard": "You scanned their contact code",
  "event.unknown": "Exchanged cards",
  "linked.phone": "same phone number",
  "linked.email": "same email",
  "linked.new": "new contact",
  "linked.manual": "moved by you",
  "linked.unknown": "matched",
  "format.vcf3": "Contacts file (.vcf) — phones, Outlook, Gmail",
  "format.vcf4": "Contacts file, newer format (.vcf 4.0)",
  "format.csv": "Spreadsheet (.csv) — Excel, Numbers",

  "error.offline": "No connection to the server. Check the network and try again.",
  "error.not_logged_in": "Please log in first.",
  "error.invalid": "Check what you entered and try again.",
  "error.not_found": "This no longer exists.",
  "error.database": "Your cards could not be read on this device.",
  "error.io": "The file could not be read or saved.",
  "error.corrupt": "Some saved data is damaged.",
  "error.no_models": "Card reading isn't available on this device.",
  "error.unauthorized": "Wrong account or password.",
  "error.gone": "The owner has reset this code. Ask them for the new one.",
  "error.conflict": "This mobile number or email already has an account. Log in instead.",
  "error.too_large": "This is too large.",
  "error.full": "You've reached the limit.",
  "error.rate_limited": "Too many tries. Wait a minute and try again.",
  "error.busy": "The server is busy. Try again in a moment.",
  "error.internal": "Something went wrong. Try again.",
  "error.unknown": "Something went wrong. Try again.",
  "error.details": "Details",
} as const;

export type Key = keyof typeof en;

const zh: Record<Key, string> = {
  "app.name": "名片",
  "tab.code": "我的名片",
  "tab.scan": "扫一扫",
  "tab.wallet": "名片夹",
  "tab.settings": "我",
  "tab.newCards": "{n} 张新名片",

  "welcome.title": "扫一下，互换名片",
  "welcome.lead": "出示你的二维码，对方扫一扫就能收到你的名片，你也会同时收到对方的名片。",
  "welcome.start": "注册",
  "welcome.login": "登录",
  "welcome.haveAccount": "已有账号，直接登录",
  "welcome.newAccount": "还没有账号？注册",
  "welcome.step": "第 {n} 步，共 2 步",
  "welcome.accountTitle": "创建账号",
  "welcome.accountLead": "姓名和手机号会自动填进你的名片，之后随时可以修改。",
  "welcome.loginTitle": "欢迎回来",
  "welcome.advanced": "高级设置",
  "welcome.server": "服务器地址",
  "welcome.serverHint": "仅当公司自建了名片服务器时才需要修改。",
  "welcome.passwordHint": "至少 8 位",

  "field.name": "姓名",
  "field.login": "手机号、邮箱或姓名",
  "field.phone": "手机号",
  "field.phones": "电话",
  "field.email": "邮箱",
  "field.emails": "邮箱",
  "field.password": "密码",
  "field.org": "公司",
  "field.title": "职位",
  "field.dept": "部门",
  "field.workPhone": "办公电话",
  "field.url": "网址",
  "field.address": "地址",
  "field.wechat": "微信号",
  "field.note": "备注",
  "field.avatar": "头像",
  "field.cardImage": "名片图片",
  "field.addPhone": "添加电话",
  "field.addEmail": "添加邮箱",
  "field.remove": "删除",

  "editor.title": "编辑名片",
  "editor.firstTitle": "你的名片",
  "editor.lead": "别人扫你的二维码时，收到的就是这张名片。",
  "editor.template": "样式",
  "editor.tpl.classic": "经典",
  "editor.tpl.modern": "商务",
  "editor.tpl.ink": "水墨",
  "editor.importVcf": "从通讯录文件（.vcf）导入",
  "editor.fromPaper": "拍名片自动填写",
  "editor.more": "更多信息",
  "editor.pictures": "图片",
  "editor.choosePicture": "选择图片",
  "editor.changePicture": "更换",
  "editor.removePicture": "移除",
  "editor.preview": "预览",
  "editor.printed": "固定码公开的信息",
  "editor.printedHint": "固定码可以印在纸质名片上，任何人扫码都能看到，所以只公开你勾选的信息。",
  "editor.save": "保存",
  "editor.saved": "名片已保存",
  "editor.skip": "稍后再说",
  "editor.newSet": "新建名片",
  "editor.create": "创建名片",

  "code.title": "我的二维码",
  "code.live": "对方扫码即可收到你的完整名片",
  "code.auto": "二维码会定时更新，旧截图将失效",
  "code.printedTitle": "固定码",
  "code.printedLead": "适合印在纸质名片上或放进邮件签名。只展示你选择公开的信息，重置前一直有效。",
  "code.fullscreen": "全屏",
  "code.fullscreenLabel": "全屏显示的名片二维码，轻触关闭",
  "code.qrLabel": "{name} 的名片二维码，轻触全屏显示",
  "code.clickToClose": "单击或按 Esc 关闭",
  "code.tapToClose": "轻触任意位置关闭",
  "code.saveImage": "保存图片",
  "code.share": "分享",
  "code.copyLink": "复制链接",
  "code.copied": "链接已复制",
  "code.imageSaved": "图片已保存",
  "code.more": "更多",
  "code.showPrinted": "显示固定码",
  "code.showLive": "返回我的二维码",
  "code.manage": "管理名片",
  "code.edit": "编辑名片",
  "code.set": "名片 {n}",
  "code.choose": "选择要出示的名片",
  "code.reset": "重置固定码",
  "code.resetTitle": "重置“{label}”的固定码？",
  "code.resetBody": "印有当前固定码的纸质名片、邮件签名和图片将失效。已交换的名片不受影响。",
  "code.resetConfirm": "重置",
  "code.resetDone": "固定码已重置，旧码已失效",
  "code.waiting": "请对方用手机扫一扫",
  "code.exchanged": "已与 {name} 交换名片",
  "code.exchangedSub": "对方的名片已存入名片夹",
  "code.view": "查看名片",
  "code.done": "完成",
  "code.loadFailed": "二维码加载失败",
  "code.retry": "重试",

  "scan.title": "扫一扫",
  "scan.camera": "扫码",
  "scan.cameraHint": "对准对方的名片二维码",
  "scan.fromImage": "识别图片中的二维码",
  "scan.paste": "粘贴链接",
  "scan.pasteLabel": "名片链接或联系人文本",
  "scan.go": "打开",
  "scan.noCode": "未在图片中识别到名片二维码",
  "scan.paper": "拍名片识别",
  "scan.paperHint": "本机识别，不会上传",
  "scan.album": "相册",
  "scan.cancel": "取消",
  "scan.scanning": "正在扫描……",
  "scan.frameHint": "将二维码放入框内",
  "scan.denied": "无法使用相机",
  "scan.deniedBody": "扫描名片二维码需要相机权限，请在手机设置中允许“名片”使用相机。也可以从相册选择二维码图片。",
  "scan.deniedDesktop": "如需用电脑摄像头扫码，请在系统的隐私设置中允许“名片”使用摄像头。也可以选择二维码图片。",
  "scan.openSettings": "去设置",
  "scan.autoExchange": "扫码后直接交换",
  "scan.autoExchangeHint": "不再逐一确认，适合展会等场合。",
  "scan.next": "继续扫下一张",
  "scan.notCard": "这不是名片二维码",

  "whose.title": "这是谁的名片？",
  "whose.via": "来自 {host}",
  "whose.inCode": "名片信息包含在二维码中",
  "whose.printed": "来自固定码，只包含对方公开的信息。",
  "whose.exchange": "交换名片",
  "whose.exchangeHint": "对方也会收到你的名片",
  "whose.saveOnly": "仅保存",
  "whose.saveOnlyHint": "只保存对方的名片，不发送你的",
  "whose.give": "发送哪张名片",
  "whose.offline": "当前没有网络。你可以先做选择，联网后会自动完成。",
  "whose.offlineTitle": "来自 {host} 的名片二维码",

  "done.exchanged": "已与 {name} 交换名片",
  "done.sent": "你的名片已发送给对方",
  "done.saved": "已保存 {name} 的名片",
  "done.notSent": "未向对方发送你的名片",
  "done.linked": "已归入名片夹中的 {name}",
  "done.updated": "对方的名片有更新，已更新为最新版本",
  "done.unchanged": "名片夹里已有这张名片",
  "done.pending": "等待联网",
  "done.pendingBody": "联网后会自动完成。",
  "done.printed": "来自固定码，只包含对方公开的信息。",
  "done.addNote": "添加备注",
  "done.finish": "完成",

  "paper.title": "拍名片识别",
  "paper.front": "正面",
  "paper.back": "背面",
  "paper.takePhoto": "拍照",
  "paper.choose": "从相册选择",
  "paper.pickLeadDesktop": "选择名片照片：正面，有背面的话也一起选。",
  "paper.pickLead": "拍一张名片照片，或从相册中选择。",
  "paper.finding": "正在寻找名片……",
  "paper.frameHint": "若四个角未对准名片，请拖动调整。",
  "paper.notFound": "未识别到名片边缘，请手动拖动四个角对准名片。",
  "paper.photo": "纸质名片照片",
  "paper.frame": "名片裁剪框",
  "paper.corner.tl": "左上角",
  "paper.corner.tr": "右上角",
  "paper.corner.br": "右下角",
  "paper.corner.bl": "左下角",
  "paper.read": "开始识别",
  "paper.reading": "正在识别……",
  "paper.addBack": "添加背面",
  "paper.retake": "重拍",
  "paper.whole": "整张照片",
  "paper.check": "识别结果仅供参考，请逐项核对，尤其是电话号码。",
  "paper.save": "存入名片夹",
  "paper.use": "填入我的名片",
  "paper.backLead": "再拍名片背面。",

  "wallet.title": "名片夹",
  "wallet.search": "搜索姓名、公司、电话",
  "wallet.searchLabel": "按姓名、拼音、首字母、公司、职位、电话或邮箱搜索",
  "wallet.empty": "名片夹还是空的",
  "wallet.emptyHint": "扫一扫对方的二维码，或从文件导入通讯录。",
  "wallet.count": "共 {n} 位联系人",
  "wallet.countOne": "共 1 位联系人",
  "wallet.found": "找到 {n} 位",
  "wallet.foundOne": "找到 1 位",
  "wallet.noneFound": "没有找到“{q}”",
  "wallet.pick": "选择联系人查看名片",
  "wallet.new": "新收到",
  "wallet.newMark": "新",
  "wallet.import": "导入和导出",
  "wallet.cards": "{n} 张名片",
  "wallet.unverified": "待确认",

  "contact.call": "打电话",
  "contact.sms": "发短信",
  "contact.mail": "发邮件",
  "contact.copy": "全部复制",
  "contact.saveToPhone": "存通讯录",
  "contact.savedToPhone": "已保存，打开文件即可添加到通讯录",
  "contact.copied": "已复制",
  "contact.copyHint": "轻触复制",
  "contact.details": "联系方式",
  "contact.map": "在地图中打开",
  "contact.cards": "名片",
  "contact.shown": "主名片",
  "contact.showThis": "设为主名片",
  "contact.showAuto": "自动选择",
  "contact.older": "历史版本（{n}）",
  "contact.olderHide": "收起历史版本",
  "contact.receivedAt": "{t} 收到",
  "contact.history": "交换记录",
  "contact.note": "备注",
  "contact.notePlaceholder": "在哪里认识、聊了什么……",
  "contact.tags": "标签",
  "contact.tagsPlaceholder": "用逗号分隔",
  "contact.save": "保存",
  "contact.saved": "已保存",
  "contact.edit": "编辑",
  "contact.editTitle": "编辑联系人",
  "contact.editHint": "将显示你修改后的信息，对方发来的名片会原样保留。",
  "contact.editReset": "恢复显示对方的名片",
  "contact.delete": "删除联系人",
  "contact.deleted": "已删除 {name}",
  "contact.undo": "撤销",
  "contact.unlink": "不是同一个人？拆分为单独联系人",
  "contact.unverified": "这张名片是通过网页发来的，内容未经验证。确认前不会显示为联系人信息。",
  "contact.accept": "确认这张名片",
  "contact.back": "返回",
  "contact.fromOwnEdit": "显示的是你修改后的信息",
  "contact.printed": "来自固定码，只包含对方公开的信息。",

  "io.title": "导入和导出",
  "io.importTitle": "导入",
  "io.importLead": "支持手机、Outlook、Gmail 导出的通讯录文件（.vcf）和表格（.csv）。已有的名片会自动合并，不会重复。",
  "io.import": "选择文件",
  "io.importing": "正在导入 {done}/{total}",
  "io.done": "导入完成",
  "io.summary": "共读取 {read} 张",
  "io.added": "新增 {n} 张",
  "io.linked": "归入已有联系人 {n} 张",
  "io.updated": "更新 {n} 张",
  "io.unchanged": "已存在 {n} 张",
  "io.errors": "{n} 张未能导入：",
  "io.errorsOne": "1 张未能导入：",
  "io.problem": "{file} 第 {item} 张：{message}",
  "io.exportTitle": "导出",
  "io.exportLead": "把名片夹里的全部名片导出为一个文件。",
  "io.format": "格式",
  "io.saveFile": "保存为文件",
  "io.shareFile": "分享",
  "io.exported": "已保存到 {path}",
  "io.fileName": "名片夹 {date}",

  "settings.title": "我",
  "settings.account": "账号",
  "settings.editCard": "编辑名片",
  "settings.myCards": "我的名片",
  "settings.backup": "备份与同步",
  "settings.backupLead": "名片夹会备份到你的账号，换手机后可以恢复。",
  "settings.syncNow": "立即备份",
  "settings.lastSync": "上次备份：{t}",
  "settings.never": "尚未备份",
  "settings.synced": "备份完成：上传 {pushed} 项，下载 {pulled} 项",
  "settings.restore": "从备份恢复",
  "settings.restored": "已恢复 {n} 项",
  "settings.devices": "已登录的设备",
  "settings.thisDevice": "本机",
  "settings.lastSeen": "最近活跃：{t}",
  "settings.language": "语言",
  "settings.region": "电话号码默认国家/地区",
  "settings.regionHint": "未加国家代码的号码将按此国家/地区识别。",
  "settings.advanced": "高级设置",
  "settings.server": "服务器",
  "settings.logout": "退出登录",
  "settings.importExport": "导入和导出",
  "lang.auto": "跟随系统",

  "kind.cell": "手机",
  "kind.work": "工作",
  "kind.home": "住宅",
  "kind.fax": "传真",
  "kind.other": "电话",

  "common.cancel": "取消",
  "common.close": "关闭",
  "common.back": "返回",
  "common.loading": "加载中……",
  "common.dismiss": "关闭",
  "common.retry": "重试",
  "common.more": "更多",

  "time.justNow": "刚刚",
  "time.today": "今天 {time}",
  "time.yesterday": "昨天 {time}",

  "source.exchange": "你扫了对方的二维码",
  "source.received": "对方扫了你的二维码",
  "source.web": "对方通过网页发来",
  "source.scan": "你扫了联系人二维码",
  "source.import": "从文件导入",
  "source.manual": "你手动添加",
  "source.unknown": "从其他设备同步",
  "event.scanned": "你扫了对方的二维码",
  "event.received": "对方扫了你的二维码",
  "event.web_reply": "对方通过网页发来名片",
  "event.scanned_vcard": "你扫了对方的联系人二维码",
  "event.unknown": "交换了名片",
  "linked.phone": "手机号相同",
  "linked.email": "邮箱相同",
  "linked.new": "新联系人",
  "linked.manual": "你手动归入",
  "linked.unknown": "自动匹配",
  "format.vcf3": "通讯录文件（.vcf），适用于手机、Outlook、Gmail",
  "format.vcf4": "新版通讯录文件（.vcf 4.0）",
  "format.csv": "表格（.csv），可用 Excel、WPS 打开",

  "error.offline": "无法连接服务器，请检查网络后重试。",
  "error.not_logged_in": "请先登录。",
  "error.invalid": "内容有误，请检查后重试。",
  "error.not_found": "内容已不存在。",
  "error.database": "本机的名片数据读取失败。",
  "error.io": "文件无法读取或保存。",
  "error.corrupt": "部分本机数据已损坏。",
  "error.no_models": "本机尚未安装名片识别功能。",
  "error.unauthorized": "账号或密码错误。",
  "error.gone": "该二维码已被对方重置，请向对方索取新的二维码。",
  "error.conflict": "该手机号或邮箱已注册，请直接登录。",
  "error.too_large": "内容过大。",
  "error.full": "已达到数量上限。",
  "error.rate_limited": "操作过于频繁，请一分钟后再试。",
  "error.busy": "服务器繁忙，请稍后重试。",
  "error.internal": "出了点问题，请重试。",
  "error.unknown": "出了点问题，请重试。",
  "error.details": "详情",
};

export type Lang = "zh-CN" | "en";

let systemLocale: string | null = null;

/** The operating system's locale as the shell reports it (desktop web views do not always pass
 * it on as `navigator.language`). */
export function setSystemLocale(locale: string | null): void {
  systemLocale = locale;
  document.documentElement.lang = lang();
}

function systemLang(): Lang {
  const langs = systemLocale ? [systemLocale] : navigator.languages?.length ? navigator.languages : [navigator.language];
  return langs.some((l) => l?.toLowerCase().startsWith("zh")) ? "zh-CN" : "en";
}

let chosen: Lang | "auto" = (localStorage.getItem("lang") as Lang | "auto" | null) ?? "auto";

export function lang(): Lang {
  return chosen === "auto" ? systemLang() : chosen;
}

export function chosenLang(): Lang | "auto" {
  return chosen;
}

export function setLang(l: Lang | "auto"): void {
  chosen = l;
  localStorage.setItem("lang", l);
  document.documentElement.lang = lang();
}

export function t(key: Key, vars: Record<string, string | number> = {}): string {
  const table = lang() === "zh-CN" ? zh : en;
  return table[key].replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? ""));
}

/** `one` for exactly 1, else `many` with `{n}` (English plurals; Chinese has one form). */
export function count(n: number, one: Key, many: Key, vars: Record<string, string | number> = {}): string {
  return n === 1 ? t(one, vars) : t(many, { ...vars, n });
}

// Every code the shell sends, in words. Typed over the generated unions: a code added in Rust
// and not here fails the type check.
const ERROR_TEXT: Record<ErrorCode, Key> = {
  offline: "error.offline", not_logged_in: "error.not_logged_in", invalid: "error.invalid",
  not_found: "error.not_found", database: "error.database", io: "error.io", corrupt: "error.corrupt",
  no_models: "error.no_models", unauthorized: "error.unauthorized", gone: "error.gone",
  conflict: "error.conflict", too_large: "error.too_large", full: "error.full",
  rate_limited: "error.rate_limited", busy: "error.busy", internal: "error.internal", unknown: "error.unknown",
};
const SOURCE_TEXT: Record<Source, Key> = {
  exchange: "source.exchange", received: "source.received", web: "source.web", scan: "source.scan",
  import: "source.import", manual: "source.manual", unknown: "source.unknown",
};
const EVENT_TEXT: Record<EventKind, Key> = {
  scanned: "event.scanned", received: "event.received", web_reply: "event.web_reply",
  scanned_vcard: "event.scanned_vcard", unknown: "event.unknown",
};
const LINKED_TEXT: Record<LinkedBy, Key> = {
  phone: "linked.phone", email: "linked.email", new: "linked.new", manual: "linked.manual", unknown: "linked.unknown",
};
const FORMAT_TEXT: Record<ExportFormat, Key> = { vcf3: "format.vcf3", vcf4: "format.vcf4", csv: "format.csv" };
const OUTCOME_TEXT: Record<Outcome, Key | null> = {
  added: null, linked: "done.linked", updated: "done.updated", unchanged: "done.unchanged",
};

export const sourceText = (s: Source) => t(SOURCE_TEXT[s]);
export const eventText = (k: EventKind) => t(EVENT_TEXT[k]);
export const linkedText = (l: LinkedBy) => t(LINKED_TEXT[l]);
export const formatText = (f: ExportFormat) => t(FORMAT_TEXT[f]);
export function outcomeText(o: Outcome, name: string): string | null {
  const key = OUTCOME_TEXT[o];
  return key ? t(key, { name }) : null;
}

/** An error for people, in their language: the text for its code. The shell's own message is
 * detail, shown apart and only where it helps (see `ErrorNote`). */
export function errorText(e: { code: ErrorCode }): string {
  return t(ERROR_TEXT[e.code] ?? "error.unknown");
}

/** A phone's kinds in the user's language (the first known one). */
export function phoneKind(list: string[]): string {
  // The most specific kind first: a work fax is a fax.
  for (const k of ["fax", "cell", "home", "work"] as const) {
    if (list.includes(k)) return t(`kind.${k}`);
  }
  return t("kind.other");
}

/** The region's name in the user's language (`CN` → 中国 / China). */
export function regionName(code: string): string {
  try {
    return new Intl.DisplayNames([lang()], { type: "region" }).of(code) ?? code;
  } catch {
    return code;
  }
}

/** A time as people say it: "just now", "5 minutes ago", "yesterday 14:30", "3 Nov", "3 Nov 2025". */
export function when(ms: number | null | undefined, now = Date.now()): string {
  if (!ms) return "";
  const l = lang();
  const d = new Date(ms);
  const diff = now - ms;
  const time = d.toLocaleTimeString(l, { hour: "2-digit", minute: "2-digit" });
  if (diff >= 0 && diff < 60_000) return t("time.justNow");
  if (diff >= 0 && diff < 3_600_000) {
    return new Intl.RelativeTimeFormat(l, { numeric: "auto" }).format(-Math.floor(diff / 60_000), "minute");
  }
  const day = (x: Date) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
  const days = Math.round((day(new Date(now)) - day(d)) / 86_400_000);
  if (days === 0) return t("time.today", { time });
  if (days === 1) return t("time.yesterday", { time });
  const sameYear = d.getFullYear() === new Date(now).getFullYear();
  return d.toLocaleDateString(l, sameYear ? { month: "short", day: "numeric" } : { year: "numeric", month: "short", day: "numeric" });
}

/** Today as a file name part: 2026-11-30. */
export function today(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}
