/* Block Kit and mrkdwn, rendered the way Slack shows them. Builds DOM nodes only: text never becomes HTML. */
(function () {
  "use strict";

  const EMOJI = {
    leftwards_arrow_with_hook: "↩️", arrow_right_hook: "↪️",
    large_yellow_circle: "🟡", large_orange_circle: "🟠", large_green_circle: "🟢", large_blue_circle: "🔵",
    large_purple_circle: "🟣", red_circle: "🔴", white_circle: "⚪", black_circle: "⚫",
    rotating_light: "🚨", white_check_mark: "✅", heavy_check_mark: "✔️", x: "❌", warning: "⚠️",
    link: "🔗", tada: "🎉", alarm_clock: "⏰", clock: "🕐", hourglass: "⌛", hourglass_flowing_sand: "⏳",
    bell: "🔔", memo: "📝", speech_balloon: "💬", bust_in_silhouette: "👤", busts_in_silhouette: "👥",
    moneybag: "💰", money_with_wings: "💸", raised_hands: "🙌", thumbsup: "👍", "+1": "👍", thumbsdown: "👎",
    pray: "🙏", star: "⭐", calendar: "📆", date: "📅", spiral_calendar_pad: "🗓️", mag: "🔍", eyes: "👀",
    handshake: "🤝", gift: "🎁", heart: "❤️", email: "📧", envelope: "✉️", phone: "📞",
    telephone_receiver: "📞", bulb: "💡", pushpin: "📌", arrow_right: "➡️", information_source: "ℹ️",
    lock: "🔒", no_entry: "⛔", no_entry_sign: "🚫", sparkles: "✨", fire: "🔥", zzz: "💤", wave: "👋",
    house: "🏠", robot_face: "🤖", clipboard: "📋", chart_with_upwards_trend: "📈", question: "❓",
    exclamation: "❗", heavy_plus_sign: "➕", writing_hand: "✍️", thinking_face: "🤔",
    slightly_smiling_face: "🙂", smile: "😄", slightly_frowning_face: "🙁", rocket: "🚀", inbox_tray: "📥",
    outbox_tray: "📤", package: "📦", truck: "🚚", hammer_and_wrench: "🛠️", wrench: "🔧",
    dart: "🎯", compass: "🧭", scroll: "📜", page_facing_up: "📄", ballot_box_with_check: "☑️",
    arrows_counterclockwise: "🔄", repeat: "🔁", stopwatch: "⏱️", loudspeaker: "📢", mega: "📣",
    point_right: "👉", ok_hand: "👌", muscle: "💪", seedling: "🌱", hugging_face: "🤗", ear: "👂",
    speaking_head_in_silhouette: "🗣️", receipt: "🧾", credit_card: "💳", shield: "🛡️", scales: "⚖️",
    hourglass_done: "⌛", calendar_spiral: "🗓️", blue_book: "📘", books: "📚", pencil: "📝", pencil2: "✏️",
    bar_chart: "📊", chart_with_downwards_trend: "📉", next_track_button: "⏭️", track_next: "⏭️",
    round_pushpin: "📍", triangular_flag_on_post: "🚩", bookmark: "🔖", mailbox_with_mail: "📬",
    small_blue_diamond: "🔹", small_orange_diamond: "🔸", new: "🆕", sos: "🆘", construction: "🚧",
  };

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function decodeEntities(text) {
    // Slack decodes exactly these three; anything else (&quot; …) stays as typed.
    return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  function withEmoji(text) {
    return text.replace(/:([a-z0-9_+\-]+):/g, (whole, name) => EMOJI[name] || whole);
  }

  /* A text node for a run of mrkdwn text: entities decoded, emoji shortcodes shown. */
  function textRun(raw) {
    return document.createTextNode(withEmoji(decodeEntities(raw)));
  }

  // ---- dates: <!date^1700000000^{date_short_pretty} at {time}|fallback> -----------------------

  const DAY = 86400000;
  function ordinal(n) {
    const s = ["th", "st", "nd", "rd"], v = n % 100;
    return n + (s[(v - 20) % 10] || s[v] || s[0]);
  }
  function sameDay(a, b) {
    return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
  }
  function pretty(date, now, fallback) {
    if (sameDay(date, now)) return "today";
    if (sameDay(date, new Date(now.getTime() - DAY))) return "yesterday";
    if (sameDay(date, new Date(now.getTime() + DAY))) return "tomorrow";
    return fallback;
  }
  function ago(date, now) {
    const seconds = Math.round((now - date) / 1000);
    const future = seconds < 0;
    const s = Math.abs(seconds);
    const units = [[31536000, "year"], [2592000, "month"], [86400, "day"], [3600, "hour"], [60, "minute"]];
    for (const [size, name] of units) {
      if (s >= size) {
        const n = Math.floor(s / size);
        const phrase = n + " " + name + (n === 1 ? "" : "s");
        return future ? "in " + phrase : phrase + " ago";
      }
    }
    return future ? "in a few seconds" : "just now";
  }
  function formatSlackDate(seconds, format, now) {
    const d = new Date(seconds * 1000);
    const month = d.toLocaleString("en-US", { month: "long" });
    const mon = d.toLocaleString("en-US", { month: "short" });
    const weekday = d.toLocaleString("en-US", { weekday: "long" });
    const date = `${month} ${ordinal(d.getDate())}, ${d.getFullYear()}`;
    const short = `${mon} ${d.getDate()}, ${d.getFullYear()}`;
    const long = `${weekday}, ${date}`;
    const tokens = {
      date_num: `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`,
      date, date_short: short, date_long: long,
      date_pretty: pretty(d, now, date), date_short_pretty: pretty(d, now, short),
      date_long_pretty: pretty(d, now, long),
      time: d.toLocaleTimeString("en-US", { hour: "numeric", minute: "2-digit" }),
      time_secs: d.toLocaleTimeString("en-US", { hour: "numeric", minute: "2-digit", second: "2-digit" }),
      ago: ago(d, now),
    };
    return format.replace(/\{([a-z_]+)\}/g, (whole, name) => (name in tokens ? tokens[name] : whole));
  }

  // ---- links and mentions: <@U…>, <#C…|name>, <!here>, <url|label> ----------------------------

  function safeUrl(url) {
    return /^(https?:\/\/|mailto:)/i.test(url) ? url : null;
  }

  function link(url, label, ctx) {
    const a = el("a", "mrkdwn-link");
    a.href = url;
    a.appendChild(textRun(label));
    if (ctx.isInternal && ctx.isInternal(url)) {
      a.dataset.internal = "1";
    } else {
      a.target = "_blank";
      a.rel = "noopener noreferrer";
    }
    return a;
  }

  function special(inner, ctx) {
    const [target, ...rest] = inner.split("|");
    const label = rest.join("|");
    if (target.startsWith("@")) {
      const id = target.slice(1);
      const user = (ctx.users || {})[id];
      const name = user ? user.real_name : label || id;
      const span = el("span", "mention" + (id === ctx.me ? " mention-me" : ""), "@" + name);
      span.dataset.userId = id;
      return span;
    }
    if (target.startsWith("#")) {
      const id = target.slice(1);
      const channel = (ctx.channels || {})[id];
      const a = el("a", "mention channel-mention", "#" + (channel ? channel.name : label || id));
      a.href = "#";
      a.dataset.channelId = id;
      return a;
    }
    if (target.startsWith("!")) {
      const parts = target.slice(1).split("^");
      const word = parts[0];
      if (word === "here" || word === "channel" || word === "everyone") {
        return el("span", "mention mention-broadcast", "@" + word);
      }
      if (word === "subteam") return el("span", "mention", label || "@group");
      if (word === "date" && parts.length >= 3) {
        const seconds = Number(parts[1]);
        const text = Number.isFinite(seconds)
          ? formatSlackDate(seconds, parts[2], ctx.now ? ctx.now() : new Date())
          : decodeEntities(label);
        const url = parts[3] && safeUrl(parts[3]);
        if (url) return link(url, text, ctx);
        const t = el("time", "slack-date", text);
        t.title = decodeEntities(label);
        return t;
      }
      return textRun(label || "");
    }
    const url = safeUrl(decodeEntities(target));
    if (!url) return textRun("<" + inner + ">");
    return link(url, label || decodeEntities(target), ctx);
  }

  // ---- inline formatting ----------------------------------------------------------------------

  // <…> markup, `code`, or *bold* / _italic_ / ~strike~ opening after a boundary and closing before one.
  const INLINE = /<([^<>\n]+)>|`([^`\n]+)`|(^|[\s(\[{"'.,;:!?\/-])([*_~])(?=\S)(.*?\S)\4(?=$|[\s)\]}"'.,;:!?\/-])/;
  const STYLE = { "*": "b", _: "i", "~": "s" };

  function inline(text, parent, ctx) {
    let rest = text;
    while (rest) {
      const m = INLINE.exec(rest);
      if (!m) {
        parent.appendChild(textRun(rest));
        return;
      }
      let start = m.index;
      if (m[3] !== undefined) start += m[3].length; // the boundary character belongs to the text before
      if (start > 0) parent.appendChild(textRun(rest.slice(0, start)));
      if (m[1] !== undefined) {
        parent.appendChild(special(m[1], ctx));
      } else if (m[2] !== undefined) {
        parent.appendChild(el("code", "inline-code", decodeEntities(m[2])));
      } else {
        const node = el(STYLE[m[4]]);
        inline(m[5], node, ctx);
        parent.appendChild(node);
      }
      rest = rest.slice(m.index + m[0].length);
    }
  }

  function lines(text, parent, ctx) {
    const all = text.split("\n");
    let quote = null;
    all.forEach((line, i) => {
      // Only a literal ">" quotes; Mend escapes what people type, so their "&gt;" shows as ">".
      if (line.startsWith(">")) {
        if (!quote) {
          quote = el("blockquote", "mrkdwn-quote");
          parent.appendChild(quote);
        } else {
          quote.appendChild(document.createElement("br"));
        }
        inline(line.slice(1).replace(/^ /, ""), quote, ctx);
        return;
      }
      quote = null;
      if (i > 0 && !(all[i - 1].startsWith(">"))) parent.appendChild(document.createElement("br"));
      inline(line, parent, ctx);
    });
  }

  function mrkdwn(text, ctx) {
    const frag = document.createDocumentFragment();
    const parts = String(text || "").split("```");
    parts.forEach((part, i) => {
      if (i % 2 === 1 && i < parts.length - 1) {
        frag.appendChild(el("pre", "code-block", decodeEntities(part.replace(/^\n/, ""))));
      } else {
        lines(i % 2 === 1 ? "```" + part : part, frag, ctx);
      }
    });
    return frag;
  }

  function textObject(obj, ctx) {
    if (!obj) return document.createTextNode("");
    if (typeof obj === "string") return mrkdwn(obj, ctx);
    if (obj.type === "mrkdwn") {
      // verbatim: no auto-linking; Slack still renders explicit <…> markup and formatting.
      return mrkdwn(obj.text, ctx);
    }
    return document.createTextNode(obj.emoji === false ? obj.text : withEmoji(obj.text || ""));
  }

  function plainText(obj) {
    if (!obj) return "";
    return typeof obj === "string" ? obj : withEmoji(obj.text || "");
  }

  // ---- elements -------------------------------------------------------------------------------

  function optionsOf(element) {
    const options = [...(element.options || [])];
    (element.option_groups || []).forEach((g) => options.push(...(g.options || [])));
    return options;
  }

  function optionLabel(option) {
    return plainText(option.text);
  }

  /* ctx.register(block, element, api) remembers how to read and restore an element's value. */
  function register(ctx, block, element, api) {
    if (ctx.register) ctx.register(block, element, api);
  }

  function fire(ctx, block, element, choose) {
    if (ctx.onAction) ctx.onAction(block, element, choose);
  }

  function dispatches(ctx, block) {
    // Inputs in input blocks wait for Submit unless the block asks to dispatch; everything else acts now.
    return block.type !== "input" || block.dispatch_action === true;
  }

  function button(element, block, ctx) {
    const b = el("button", "bk-button" + (element.style ? " bk-" + element.style : ""));
    b.type = "button";
    b.appendChild(textObject(element.text, ctx));
    b.dataset.actionId = element.action_id || "";
    b.dataset.blockId = block.block_id || "";
    if (element.url) b.dataset.url = element.url;
    b.addEventListener("click", () => {
      const go = () => {
        if (element.url && ctx.onUrl) ctx.onUrl(element.url);
        fire(ctx, block, element, null);
      };
      if (element.confirm && ctx.confirm) ctx.confirm(element.confirm, go);
      else go();
    });
    return b;
  }

  function selectBox(element, block, ctx, choices, initial, multiple) {
    const select = el("select", "bk-select");
    select.dataset.actionId = element.action_id || "";
    select.multiple = !!multiple;
    if (!multiple) {
      const placeholder = el("option", null, plainText(element.placeholder) || "Select an item");
      placeholder.value = "";
      placeholder.disabled = true;
      select.appendChild(placeholder);
    }
    const addOption = (parent, value, label, selected) => {
      const o = el("option", null, label);
      o.value = value;
      o.selected = selected;
      parent.appendChild(o);
    };
    const wanted = new Set([].concat(initial || []));
    if (element.option_groups) {
      element.option_groups.forEach((group) => {
        const g = document.createElement("optgroup");
        g.label = plainText(group.label);
        (group.options || []).forEach((o) => addOption(g, o.value, optionLabel(o), wanted.has(o.value)));
        select.appendChild(g);
      });
    } else {
      choices.forEach(([value, label]) => addOption(select, value, label, wanted.has(value)));
    }
    if (!multiple && !wanted.size) select.value = "";
    const get = () => {
      if (multiple) return [...select.selectedOptions].map((o) => o.value);
      return select.value || null;
    };
    const set = (v) => {
      const vs = new Set([].concat(v || []));
      [...select.options].forEach((o) => { o.selected = vs.has(o.value); });
      if (!multiple && !vs.size) select.value = "";
    };
    register(ctx, block, element, { get, set, node: select });
    if (dispatches(ctx, block)) {
      select.addEventListener("change", () => fire(ctx, block, element, get()));
    }
    return select;
  }

  function userChoices(ctx) {
    return Object.values(ctx.users || {})
      .filter((u) => !u.is_bot)
      .map((u) => [u.id, u.real_name]);
  }

  function channelChoices(ctx) {
    return Object.values(ctx.channels || {})
      .filter((c) => !c.is_im)
      .map((c) => [c.id, "#" + c.name]);
  }

  function textInput(element, block, ctx, kind) {
    let input;
    if (kind === "plain_text_input" && element.multiline) {
      input = el("textarea", "bk-input bk-textarea");
      input.rows = 4;
    } else {
      input = el("input", "bk-input");
      input.type = { number_input: "number", email_text_input: "email", url_text_input: "url" }[kind] || "text";
    }
    input.dataset.actionId = element.action_id || "";
    if (element.placeholder) input.placeholder = plainText(element.placeholder);
    if (element.initial_value !== undefined && element.initial_value !== null) input.value = element.initial_value;
    if (element.max_length) input.maxLength = element.max_length;
    if (kind === "number_input") {
      input.step = element.is_decimal_allowed ? "any" : "1";
      if (element.min_value !== undefined) input.min = element.min_value;
      if (element.max_value !== undefined) input.max = element.max_value;
    }
    if (element.focus_on_load) input.dataset.focus = "1";
    const get = () => (input.value === "" ? null : input.value);
    register(ctx, block, element, { get, set: (v) => { input.value = v == null ? "" : v; }, node: input, minLength: element.min_length });
    if (dispatches(ctx, block)) {
      input.addEventListener("keydown", (e) => {
        if (e.key === "Enter" && !(element.multiline && e.shiftKey)) {
          e.preventDefault();
          fire(ctx, block, element, get());
        }
      });
    }
    return input;
  }

  function choiceList(element, block, ctx, multiple) {
    const box = el("div", "bk-choices");
    box.dataset.actionId = element.action_id || "";
    const name = "c-" + Math.random().toString(36).slice(2);
    const initial = multiple
      ? new Set((element.initial_options || []).map((o) => o.value))
      : new Set(element.initial_option ? [element.initial_option.value] : []);
    const inputs = [];
    (element.options || []).forEach((option) => {
      const row = el("label", "bk-choice");
      const input = el("input");
      input.type = multiple ? "checkbox" : "radio";
      input.name = name;
      input.value = option.value;
      input.checked = initial.has(option.value);
      inputs.push(input);
      const text = el("span", "bk-choice-text");
      text.appendChild(textObject(option.text, ctx));
      if (option.description) {
        const d = el("span", "bk-choice-description");
        d.appendChild(textObject(option.description, ctx));
        text.appendChild(d);
      }
      row.append(input, text);
      box.appendChild(row);
    });
    const get = () => {
      const chosen = inputs.filter((i) => i.checked).map((i) => i.value);
      return multiple ? chosen : chosen[0] || null;
    };
    const set = (v) => {
      const vs = new Set([].concat(v || []));
      inputs.forEach((i) => { i.checked = vs.has(i.value); });
    };
    register(ctx, block, element, { get, set, node: box });
    if (dispatches(ctx, block)) box.addEventListener("change", () => fire(ctx, block, element, get()));
    return box;
  }

  function picker(element, block, ctx, type, initial) {
    const input = el("input", "bk-input bk-picker");
    input.type = type;
    input.dataset.actionId = element.action_id || "";
    if (initial) input.value = initial;
    const get = () => (input.value === "" ? null : input.value);
    register(ctx, block, element, { get, set: (v) => { input.value = v || ""; }, node: input });
    if (dispatches(ctx, block)) input.addEventListener("change", () => fire(ctx, block, element, get()));
    return input;
  }

  function dateTimePicker(element, block, ctx) {
    const input = el("input", "bk-input bk-picker");
    input.type = "datetime-local";
    input.dataset.actionId = element.action_id || "";
    const toLocal = (seconds) => {
      const d = new Date(seconds * 1000 - new Date().getTimezoneOffset() * 60000);
      return d.toISOString().slice(0, 16);
    };
    if (element.initial_date_time) input.value = toLocal(element.initial_date_time);
    const get = () => (input.value ? Math.floor(new Date(input.value).getTime() / 1000) : null);
    register(ctx, block, element, { get, set: (v) => { input.value = v ? toLocal(v) : ""; }, node: input });
    if (dispatches(ctx, block)) input.addEventListener("change", () => fire(ctx, block, element, get()));
    return input;
  }

  function overflow(element, block, ctx) {
    const b = el("button", "bk-button bk-overflow", "⋯");
    b.type = "button";
    b.title = "More actions";
    b.dataset.actionId = element.action_id || "";
    b.addEventListener("click", (e) => {
      e.stopPropagation();
      if (!ctx.menu) return;
      ctx.menu(b, (element.options || []).map((o) => ({
        label: optionLabel(o),
        run: () => {
          if (o.url && ctx.onUrl) ctx.onUrl(o.url);
          const go = () => fire(ctx, block, element, o.value);
          if (element.confirm && ctx.confirm) ctx.confirm(element.confirm, go);
          else go();
        },
      })));
    });
    return b;
  }

  function imageElement(element) {
    // No network requests from the page: images are shown by their alt text.
    const box = el("span", "bk-image-element", "🖼");
    box.title = element.alt_text || "image";
    return box;
  }

  function element(element, block, ctx) {
    const kind = element.type;
    switch (kind) {
      case "button": return button(element, block, ctx);
      case "static_select": case "external_select":
        return selectBox(element, block, ctx, optionsOf(element).map((o) => [o.value, optionLabel(o)]),
          element.initial_option && element.initial_option.value, false);
      case "multi_static_select": case "multi_external_select":
        return selectBox(element, block, ctx, optionsOf(element).map((o) => [o.value, optionLabel(o)]),
          (element.initial_options || []).map((o) => o.value), true);
      case "users_select":
        return selectBox(element, block, ctx, userChoices(ctx), element.initial_user, false);
      case "multi_users_select":
        return selectBox(element, block, ctx, userChoices(ctx), element.initial_users, true);
      case "conversations_select": case "channels_select":
        return selectBox(element, block, ctx, channelChoices(ctx),
          element.initial_conversation || element.initial_channel, false);
      case "multi_conversations_select": case "multi_channels_select":
        return selectBox(element, block, ctx, channelChoices(ctx),
          element.initial_conversations || element.initial_channels, true);
      case "radio_buttons": return choiceList(element, block, ctx, false);
      case "checkboxes": return choiceList(element, block, ctx, true);
      case "plain_text_input": case "number_input": case "email_text_input": case "url_text_input":
        return textInput(element, block, ctx, kind);
      case "rich_text_input":
        return textInput({ ...element, multiline: true, initial_value: null }, block, ctx, "plain_text_input");
      case "datepicker": return picker(element, block, ctx, "date", element.initial_date);
      case "timepicker": return picker(element, block, ctx, "time", element.initial_time);
      case "datetimepicker": return dateTimePicker(element, block, ctx);
      case "overflow": return overflow(element, block, ctx);
      case "image": return imageElement(element);
      default: return el("span", "bk-unsupported", `[${kind} is not shown in the sandbox]`);
    }
  }

  // ---- blocks ---------------------------------------------------------------------------------

  function richText(block, ctx) {
    const box = el("div", "bk-rich-text");
    const runs = (parent, elements) => (elements || []).forEach((e) => {
      if (e.type === "text") {
        let node = document.createTextNode(e.text);
        const style = e.style || {};
        for (const [flag, tag] of [["code", "code"], ["strike", "s"], ["italic", "i"], ["bold", "b"]]) {
          if (style[flag]) { const w = el(tag); w.appendChild(node); node = w; }
        }
        parent.appendChild(node);
      } else if (e.type === "link") {
        const url = safeUrl(e.url || "");
        parent.appendChild(url ? link(url, e.text || e.url, ctx) : document.createTextNode(e.text || ""));
      } else if (e.type === "user") {
        parent.appendChild(special("@" + e.user_id, ctx));
      } else if (e.type === "channel") {
        parent.appendChild(special("#" + e.channel_id, ctx));
      } else if (e.type === "emoji") {
        parent.appendChild(document.createTextNode(EMOJI[e.name] || `:${e.name}:`));
      } else if (e.type === "broadcast") {
        parent.appendChild(el("span", "mention mention-broadcast", "@" + e.range));
      } else if (e.type === "date") {
        parent.appendChild(document.createTextNode(formatSlackDate(e.timestamp, e.format || "{date}", ctx.now ? ctx.now() : new Date())));
      }
    });
    (block.elements || []).forEach((part) => {
      if (part.type === "rich_text_section") {
        const p = el("div");
        runs(p, part.elements);
        box.appendChild(p);
      } else if (part.type === "rich_text_list") {
        const list = el(part.style === "ordered" ? "ol" : "ul");
        (part.elements || []).forEach((item) => { const li = el("li"); runs(li, item.elements); list.appendChild(li); });
        box.appendChild(list);
      } else if (part.type === "rich_text_quote") {
        const q = el("blockquote", "mrkdwn-quote");
        runs(q, part.elements);
        box.appendChild(q);
      } else if (part.type === "rich_text_preformatted") {
        const pre = el("pre", "code-block");
        runs(pre, part.elements);
        box.appendChild(pre);
      }
    });
    return box;
  }

  function block(b, ctx) {
    const node = el("div", "bk-block bk-type-" + b.type);
    node.dataset.blockId = b.block_id || "";
    switch (b.type) {
      case "header":
        node.appendChild(textObject(b.text, ctx));
        break;
      case "section": {
        const body = el("div", "bk-section-body");
        if (b.text) {
          const text = el("div", "bk-section-text");
          text.appendChild(textObject(b.text, ctx));
          body.appendChild(text);
        }
        if (b.fields) {
          const fields = el("div", "bk-fields");
          b.fields.forEach((f) => { const cell = el("div", "bk-field"); cell.appendChild(textObject(f, ctx)); fields.appendChild(cell); });
          body.appendChild(fields);
        }
        node.appendChild(body);
        if (b.accessory) {
          const acc = el("div", "bk-accessory");
          acc.appendChild(element(b.accessory, b, ctx));
          node.appendChild(acc);
        }
        break;
      }
      case "context":
        (b.elements || []).forEach((e) => {
          const part = el("span", "bk-context-part");
          part.appendChild(e.type === "image" ? imageElement(e) : textObject(e, ctx));
          node.appendChild(part);
        });
        break;
      case "divider":
        node.appendChild(el("hr"));
        break;
      case "actions":
        (b.elements || []).forEach((e) => node.appendChild(element(e, b, ctx)));
        break;
      case "input": {
        node.dataset.label = plainText(b.label);
        const label = el("label", "bk-label");
        label.appendChild(textObject(b.label, ctx));
        if (b.optional) label.appendChild(el("span", "bk-optional", " (optional)"));
        node.appendChild(label);
        const error = ctx.errors && ctx.errors[b.block_id];
        node.appendChild(element(b.element || {}, b, ctx));
        if (error) {
          node.classList.add("bk-has-error");
          node.appendChild(el("div", "bk-error", "⚠ " + error));
        }
        node.appendChild(el("div", "bk-client-error"));
        if (b.hint) {
          const hint = el("div", "bk-hint");
          hint.appendChild(textObject(b.hint, ctx));
          node.appendChild(hint);
        }
        break;
      }
      case "image": {
        if (b.title) node.appendChild(el("div", "bk-image-title", plainText(b.title)));
        node.appendChild(el("div", "bk-image-placeholder", "🖼 " + (b.alt_text || "image")));
        break;
      }
      case "rich_text":
        node.appendChild(richText(b, ctx));
        break;
      case "markdown":
        node.appendChild(mrkdwn(b.text, ctx));
        break;
      default:
        node.appendChild(el("span", "bk-unsupported", `[${b.type} block is not shown in the sandbox]`));
    }
    const error = ctx.errors && ctx.errors[b.block_id];
    if (error && b.type !== "input") node.appendChild(el("div", "bk-error", "⚠ " + error));
    return node;
  }

  function blocks(list, ctx) {
    const box = el("div", "bk-blocks");
    (list || []).forEach((b) => box.appendChild(block(b, ctx)));
    return box;
  }

  window.BlockKit = { blocks, mrkdwn, textObject, plainText, formatSlackDate, decodeEntities };
})();
