// Protocol events in words a photographer understands, for the Activity screen.

/** Events worth a line in Activity; the rest (progress ticks, queue counters) only update screens. */
export const ACTIVITY_TYPES = new Set([
  "photo_imported",
  "photo_approved",
  "photo_rejected",
  "job_failed",
  "export_completed",
  "export_failed",
  "session_created",
  "session_completed",
  "resource_warning",
  "error_occurred",
  "system_status",
  "client_favorite_changed",
  "client_comment_added",
]);

/** What a phone asks the history route for on connect (system_status only when it is news). */
export const HISTORY_TYPES = [...ACTIVITY_TYPES].filter((t) => t !== "system_status");

/** Photos imported in a burst become one line ("Imported 12 photos into Wedding"). */
export const GROUPED_TYPES = new Set(["photo_imported"]);

function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

function sizeText(bytes) {
  if (typeof bytes !== "number" || !Number.isFinite(bytes) || bytes <= 0) return "";
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1e3))} KB`;
}

/**
 * Returns the sentence for an activity item.
 * names.photo(id) and names.session(id) give file and session names, or null when unknown.
 */
export function describe(item, names) {
  const d = item.data || {};
  const photo = (id, fallback = "a photo") => (id && names.photo(id)) || d.file_name || fallback;
  const session = (id) => (id && names.session(id)) || d.session_name || "";
  switch (item.type) {
    case "photo_imported": {
      const s = session(d.session_id);
      const where = s ? ` into ${s}` : "";
      if ((item.count || 1) > 1) return `Imported ${plural(item.count, "photo")}${where}`;
      return `Imported ${photo(d.photo_id)}${where}`;
    }
    case "photo_approved":
      return `Approved ${photo(d.photo_id)}`;
    case "photo_rejected":
      return d.reason ? `Rejected ${photo(d.photo_id)} (${d.reason})` : `Rejected ${photo(d.photo_id)}`;
    case "job_failed":
      return `Could not process ${photo(d.photo_id)}: ${d.error_message || "unknown error"}`;
    case "export_completed": {
      const size = sizeText(d.file_size);
      const preset = d.preset_name || "export";
      return `Exported ${photo(d.photo_id)} (${preset}${size ? `, ${size}` : ""})`;
    }
    case "export_failed":
      return `Export of ${photo(d.photo_id)} (${d.preset_name || "export"}) failed: ${d.error_message || "unknown error"}`;
    case "session_created":
      return `New session ${d.session_name || session(d.session_id) || ""}`.trim();
    case "session_completed": {
      const name = d.session_name || session(d.session_id) || "";
      const total = d.total_photos ?? "?";
      const approved = d.approved_photos ?? "?";
      // approval_rate is a percentage (0-100), as the original bridge sent it.
      const rate = Number.isFinite(d.approval_rate) ? ` (${Math.round(d.approval_rate)}%)` : "";
      return `Session ${name} completed: ${approved} of ${total} approved${rate}`.replace("  ", " ");
    }
    case "resource_warning":
      return d.message || `${d.resource_type || "A resource"} is running low`;
    case "error_occurred":
      return `Problem: ${d.error_message || d.error_type || "unknown error"}`;
    case "system_status":
      return statusSentence(d.status);
    case "decision_refused":
      return d.message;
    case "client_favorite_changed":
      return d.favorite
        ? `${d.client_name || "A client"} loved ${photo(d.photo_id)}`
        : `${d.client_name || "A client"} took back the heart on ${photo(d.photo_id)}`;
    case "client_comment_added":
      return `${d.client_name || "A client"} on ${photo(d.photo_id)}: “${d.text || ""}”`;
    default:
      return item.type.replace(/_/g, " ");
  }
}

export function statusSentence(status) {
  switch (status) {
    case "paused":
      return "Processing paused";
    case "running":
    case "resumed":
      return "Processing resumed";
    case "idle":
      return "All caught up";
    case "stopping":
    case "shutting_down":
      return "The desktop app is shutting down";
    case "started":
    case "starting":
      return "The desktop app started";
    default:
      return status ? `Status: ${String(status).replace(/_/g, " ")}` : "Status changed";
  }
}

/** Short relative or clock time for a timestamp. */
export function timeText(iso, now = Date.now()) {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return "";
  const seconds = Math.round((now - t) / 1000);
  if (seconds < 45) return "just now";
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  const date = new Date(t);
  const sameDay = new Date(now).toDateString() === date.toDateString();
  const clock = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return sameDay ? clock : `${date.toLocaleDateString([], { month: "short", day: "numeric" })} ${clock}`;
}

/** What a job is doing, in words. */
export function jobSentence(job, photoName) {
  const name = photoName || "a photo";
  const verb = job.kind === "export" ? "Exporting" : "Analysing";
  return `${verb} ${name}`;
}
