// recbot's web chat. Plain JavaScript, no libraries: everything the page needs comes from this server.
// Text from the bot or the catalogue is only ever set as textContent, never parsed as HTML.
"use strict";

const WORDS = {
  en: {
    skip: "Skip to the message box", conversation: "Conversation", typing: "recbot is looking…",
    tagline: "Tell me what you're looking for, send a photo of something you like, or record a voice note.",
    message_label: "Your message", placeholder: "Tell me what you’re looking for…", send: "Send",
    add_photo: "Add a photo", remove_photo: "Remove photo", record: "Record a voice note", stop: "Stop recording",
    hint: "Enter sends, Shift+Enter starts a new line. Paste or drop a photo here.",
    you: "You", bot: "recbot", voice_note: "Voice note", photo: "Your photo", heard: "Heard:",
    like: "Like", dislike: "Dislike", more: "More like this", feedback_on: "Feedback on {name}",
    recording: "Recording… {seconds} s (press 🎤 again to send)", no_mic: "Your browser can't record here (it needs microphone permission, and https or localhost).",
    offline: "I couldn't reach the bot. Check that it is still running, then try again.",
    not_an_image: "That file isn't a photo. Attach a JPEG, PNG or WebP image.", no_photo: "no photo", sizes: "Sizes: {sizes}",
  },
  zh: {
    skip: "跳到输入框", conversation: "对话", typing: "recbot 正在找…",
    tagline: "告诉我你想找什么，发一张你喜欢的东西的照片，或者录一段语音。",
    message_label: "你的消息", placeholder: "告诉我你想找什么…", send: "发送",
    add_photo: "添加照片", remove_photo: "移除照片", record: "录语音", stop: "停止录音",
    hint: "按 Enter 发送，Shift+Enter 换行。可以把照片粘贴或拖到这里。",
    you: "你", bot: "recbot", voice_note: "语音", photo: "你的照片", heard: "听到：",
    like: "喜欢", dislike: "不喜欢", more: "更多类似的", feedback_on: "对 {name} 的反馈",
    recording: "正在录音… {seconds} 秒（再按一次 🎤 发送）", no_mic: "你的浏览器在这里无法录音（需要麦克风权限，以及 https 或 localhost）。",
    offline: "连不上机器人。请确认它还在运行，然后再试一次。",
    not_an_image: "这个文件不是照片。请添加 JPEG、PNG 或 WebP 图片。", no_photo: "无图片", sizes: "尺码：{sizes}",
  },
};
const MAX_RECORDING_SECONDS = 120;
const HISTORY = "recbot.conversation", KEEP = 60;  // this tab's conversation, shown again after a reload

const lang = document.documentElement.lang.startsWith("zh") ? "zh" : "en";
const t = (key, data = {}) => (WORDS[lang][key] || WORDS.en[key]).replace(/\{(\w+)\}/g, (_, k) => data[k] ?? "");
const $ = (id) => document.getElementById(id);
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const log = $("log"), text = $("text"), photoInput = $("photo"), composer = $("composer");
let photo = null, recorder = null, pending = 0;

function translatePage() {
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of document.querySelectorAll("[data-i18n-aria-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));
    el.title = t(el.dataset.i18nAriaLabel);
  }
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  node.append(...children.filter(Boolean));
  return node;
}

function scrollDown() { window.scrollTo({ top: document.body.scrollHeight }); }

function addMine(parts) {
  const bubble = el("div", { class: "bubble" }, el("span", { class: "who", text: t("you") }), ...parts);
  const item = el("li", { class: "msg mine" }, bubble);
  log.append(item);
  scrollDown();
  return bubble;
}

function price(item) {
  if (item.price === null || item.price === undefined) return "";
  try {
    const whole = Number.isInteger(item.price);  // "$54", as the bot writes it; "$54.50" when there are cents
    return new Intl.NumberFormat(lang === "zh" ? "zh-CN" : "en", {
      style: "currency", currency: item.currency || "USD", minimumFractionDigits: whole ? 0 : 2, maximumFractionDigits: whole ? 0 : 2,
    }).format(item.price);
  } catch {
    return `${item.price} ${item.currency || ""}`.trim();
  }
}

function card(item) {
  const picture = item.image
    ? el("img", { src: item.image, alt: item.name, loading: "lazy", decoding: "async" })
    : el("div", { class: "noimg", role: "img", "aria-label": t("no_photo"), text: "🛍️" });
  const meta = [item.color, item.sizes && item.sizes.length ? t("sizes", { sizes: item.sizes.join(", ") }) : ""].filter(Boolean).join(" · ");
  const actions = el("div", { class: "actions", role: "group", "aria-label": t("feedback_on", { name: item.name }) });
  for (const [action, face, label] of [["like", "👍", "like"], ["dislike", "👎", "dislike"], ["more_like_this", "🔎", "more"]]) {
    const pressable = action !== "more_like_this";
    const button = el("button", { type: "button", "data-action": action, "data-item": item.id, ...(pressable ? { "aria-pressed": "false" } : {}) },
      el("span", { "aria-hidden": "true", text: face + " " }), t(label));
    button.addEventListener("click", () => feedback(item, action, button, actions));
    actions.append(button);
  }
  return el("li", { class: "card", "data-item": item.id }, picture,
    el("div", { class: "body" },
      el("h3", { text: item.name }),
      price(item) && el("span", { class: "price", text: price(item) }),
      meta && el("span", { class: "meta", text: meta }),
      item.reason && el("p", { class: "reason", text: item.reason }),
      el("span", { class: "id", text: item.id }),
      actions));
}

function remember(entry) {
  try {
    const kept = JSON.parse(sessionStorage.getItem(HISTORY) || "[]");
    kept.push(entry);
    sessionStorage.setItem(HISTORY, JSON.stringify(kept.slice(-KEEP)));
  } catch { /* storage full or off: the conversation still goes on */ }
}

function replay() {
  let kept = [];
  try { kept = JSON.parse(sessionStorage.getItem(HISTORY) || "[]"); } catch { return; }
  for (const entry of kept) {
    if (entry.mine) {
      const parts = [];
      if (entry.mine.photo) parts.push(el("span", { text: "📷 " + t("photo") + "\n" }));
      if (entry.mine.voice) parts.push(el("span", { text: "🎤 " + t("voice_note") }));
      if (entry.mine.text) parts.push(el("span", { text: entry.mine.text }));
      const bubble = addMine(parts);
      if (entry.mine.transcript) bubble.append(el("span", { class: "transcript", text: `${t("heard")} “${entry.mine.transcript}”` }));
    } else if (entry.bot) {
      addReply(entry.bot, false);
    } else if (entry.pressed) {
      const buttons = [...log.querySelectorAll(`.card[data-item="${CSS.escape(entry.pressed.item)}"]`)].pop()?.querySelectorAll("button[aria-pressed]") || [];
      for (const button of buttons) button.setAttribute("aria-pressed", String(button.dataset.action === entry.pressed.action));
    }
  }
}

function addReply(reply, keep = true) {
  if (keep) remember({ bot: { ...reply, attachment: undefined } });
  const bubble = el("div", { class: "bubble" }, el("span", { class: "who", text: t("bot") }),
    el("span", { class: "words", text: reply.items && reply.items.length ? reply.intro || reply.text : reply.text }));
  const item = el("li", { class: "msg bot" + (reply.error ? " error" : ""), "data-error": reply.error || "" }, bubble);
  if (reply.language) item.lang = reply.language;
  if (reply.items && reply.items.length) item.append(el("ul", { class: "cards" }, ...reply.items.map(card)));
  if (reply.attachment && reply.attachment.url.startsWith("data:image/")) {
    bubble.append(el("img", { class: "chart", src: reply.attachment.url, alt: reply.attachment.name || "" }));
  }
  log.append(item);
  // a reply starts where the shopper reads from: its first line, not its last card
  if (reply.items && reply.items.length) item.scrollIntoView({ block: "start" }); else scrollDown();
}

async function post(url, body) {
  const headers = { "X-CSRF-Token": csrf, "Accept": "application/json" };
  const options = { method: "POST", headers, credentials: "same-origin" };
  if (body instanceof FormData) options.body = body;
  else { headers["Content-Type"] = "application/json"; options.body = JSON.stringify(body); }
  busy(+1);
  try {
    const response = await fetch(url, options);
    try { return await response.json(); } catch { return { text: t("offline"), items: [], error: `http_${response.status}` }; }
  } catch {
    return { text: t("offline"), items: [], error: "network" };
  } finally {
    busy(-1);
  }
}

function busy(change) {
  pending += change;
  $("typing").hidden = pending === 0;
  $("chat").setAttribute("aria-busy", pending > 0 ? "true" : "false");
  if (pending > 0) scrollDown();
}

async function send() {
  const words = text.value.trim();
  if (!words && !photo) { text.focus(); return; }
  const parts = [];
  let body;
  if (photo) {
    parts.push(el("img", { class: "sent", src: URL.createObjectURL(photo), alt: t("photo") }));
    body = new FormData();
    body.append("photo", photo, photo.name || "photo.jpg");
    body.append("text", words);
  } else {
    body = { text: words };
  }
  if (words) parts.push(el("span", { text: words }));
  addMine(parts);
  remember({ mine: { text: words, photo: Boolean(photo) } });
  text.value = "";
  resize();
  clearPhoto();
  addReply(await post("/api/messages", body));
}

async function feedback(item, action, button, group) {
  if (button.getAttribute("aria-pressed") !== null) {
    for (const other of group.querySelectorAll("button[aria-pressed]")) other.setAttribute("aria-pressed", String(other === button));
  }
  const reply = await post("/api/feedback", { item_id: item.id, action });
  if (reply.error && button.getAttribute("aria-pressed") !== null) button.setAttribute("aria-pressed", "false");
  else if (action !== "more_like_this") remember({ pressed: { item: item.id, action } });
  addReply(reply);
}

function attach(file) {
  if (!file) return;
  if (file.type.startsWith("audio/")) { sendVoice(file); return; }
  if (!file.type.startsWith("image/")) { addReply({ text: t("not_an_image"), items: [], error: "not_an_image" }); return; }
  photo = file;
  $("preview").src = URL.createObjectURL(file);
  $("attachment-name").textContent = file.name || t("photo");
  $("attachment").hidden = false;
  text.focus();
}

function clearPhoto() {
  photo = null;
  photoInput.value = "";
  $("attachment").hidden = true;
  $("preview").removeAttribute("src");
}

async function sendVoice(blob) {
  const bubble = addMine([el("span", { text: "🎤 " + t("voice_note") }), el("audio", { controls: "", src: URL.createObjectURL(blob) })]);
  const body = new FormData();
  const suffix = blob.type.includes("ogg") ? "ogg" : blob.type.includes("mp4") ? "m4a" : "webm";  // Safari records MP4
  body.append("voice", blob, blob.name || `voice.${suffix}`);
  const reply = await post("/api/messages", body);
  remember({ mine: { voice: true, transcript: reply.transcript || "" } });
  if (reply.transcript) bubble.append(el("span", { class: "transcript", text: `${t("heard")} “${reply.transcript}”` }));
  addReply(reply);
}

async function toggleRecording() {
  const button = $("record"), status = $("recording");
  if (recorder) { recorder.stop(); return; }
  if (!navigator.mediaDevices || !window.MediaRecorder) { addReply({ text: t("no_mic"), items: [], error: "no_microphone" }); return; }
  let stream;
  try { stream = await navigator.mediaDevices.getUserMedia({ audio: true }); } catch {
    addReply({ text: t("no_mic"), items: [], error: "no_microphone" });
    return;
  }
  const type = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/mp4"].find((m) => MediaRecorder.isTypeSupported(m));
  recorder = new MediaRecorder(stream, type ? { mimeType: type } : {});
  const chunks = [], started = Date.now();
  const tick = () => {
    const seconds = Math.round((Date.now() - started) / 1000);
    status.textContent = t("recording", { seconds });
    if (seconds >= MAX_RECORDING_SECONDS && recorder) recorder.stop();
  };
  const timer = setInterval(tick, 500);
  recorder.addEventListener("dataavailable", (event) => event.data.size && chunks.push(event.data));
  recorder.addEventListener("stop", () => {
    clearInterval(timer);
    stream.getTracks().forEach((track) => track.stop());
    const blob = new Blob(chunks, { type: recorder.mimeType || "audio/webm" });
    recorder = null;
    button.setAttribute("aria-pressed", "false");
    button.setAttribute("aria-label", t("record"));
    status.hidden = true;
    if (blob.size) sendVoice(blob);
  });
  recorder.start(250);
  button.setAttribute("aria-pressed", "true");
  button.setAttribute("aria-label", t("stop"));
  status.hidden = false;
  tick();
}

function resize() {
  text.style.height = "auto";
  text.style.height = `${Math.min(text.scrollHeight, 160)}px`;
}

translatePage();
replay();
composer.addEventListener("submit", (event) => { event.preventDefault(); send(); });
text.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); send(); }
});
text.addEventListener("input", resize);
text.addEventListener("paste", (event) => {
  const file = [...(event.clipboardData?.files || [])].find((f) => f.type.startsWith("image/"));
  if (file) { event.preventDefault(); attach(file); }
});
$("add-photo").addEventListener("click", () => photoInput.click());
photoInput.addEventListener("change", () => attach(photoInput.files[0]));
$("remove-photo").addEventListener("click", () => { clearPhoto(); text.focus(); });
$("record").addEventListener("click", toggleRecording);
for (const name of ["dragenter", "dragover"]) {
  document.addEventListener(name, (event) => { event.preventDefault(); composer.classList.add("dragging"); });
}
for (const name of ["dragleave", "drop"]) {
  document.addEventListener(name, () => composer.classList.remove("dragging"));
}
document.addEventListener("drop", (event) => { event.preventDefault(); attach(event.dataTransfer?.files[0]); });
text.focus();
