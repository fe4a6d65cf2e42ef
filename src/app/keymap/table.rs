//! The bindings, screens first, then the restating scopes, text input, the help and dialogs.

use crossterm::event::KeyCode;

use super::{Action, Binding, DialogKind, Key, Scope};

use Action::*;
use Key::{Any, Char, Code, Ctrl};
use Scope::{Always, Everywhere, FilterInput, Lists, LoadFailed, Loading, Mapping, TooSmall};

const IN_SAVE: Scope = Scope::Dialog(DialogKind::ConfirmSave);
const IN_QUIT: Scope = Scope::Dialog(DialogKind::ConfirmQuit);
const IN_NEW_GROUP: Scope = Scope::Dialog(DialogKind::NewGroup);
const IN_SUGGESTIONS: Scope = Scope::Dialog(DialogKind::Suggestions);
const IN_DRAFT: Scope = Scope::Dialog(DialogKind::RestoreDraft);
const IN_RESULT: Scope = Scope::Dialog(DialogKind::Result);
const IN_SAVING: Scope = Scope::Dialog(DialogKind::Saving);
const IN_CONFLICTS: Scope = Scope::Dialog(DialogKind::Conflicts);
const IN_RECORD: Scope = Scope::Dialog(DialogKind::ConfirmRecord);
const HANDOFF: Scope = Scope::Handoff;
const IN_HELP: Scope = Scope::Help;
const FIELDS: Scope = Scope::Fields;
const PREVIEW: Scope = Scope::Preview;
const FINDINGS: Scope = Scope::Findings;

const fn bind(
    scope: Scope,
    keys: &'static [Key],
    label: &'static str,
    action: Action,
    hint: Option<&'static str>,
    help: &'static str,
) -> Binding {
    Binding { keys, label, action, help, hint, scope }
}

const UP: Key = Code(KeyCode::Up);
const DOWN: Key = Code(KeyCode::Down);
const LEFT: Key = Code(KeyCode::Left);
const RIGHT: Key = Code(KeyCode::Right);
const HOME: Key = Code(KeyCode::Home);
const END: Key = Code(KeyCode::End);
const PGUP: Key = Code(KeyCode::PageUp);
const PGDN: Key = Code(KeyCode::PageDown);
const TAB: Key = Code(KeyCode::Tab);
const BACKTAB: Key = Code(KeyCode::BackTab);
const ENTER: Key = Code(KeyCode::Enter);
const ESC: Key = Code(KeyCode::Esc);
const DEL: Key = Code(KeyCode::Delete);
const BACKSPACE: Key = Code(KeyCode::Backspace);

/// Screens first: `binding(action)` names an action by its first binding.
pub const BINDINGS: &[Binding] = &[
    // The hand-off screen (first, so that its own keys lead its footer).
    bind(HANDOFF, &[ENTER], "Enter", Tick, Some("tick"), "tick the selected step off (again: untick)"),
    bind(
        HANDOFF,
        &[Char('c')],
        "c",
        CopyValue,
        Some("copy"),
        "copy the value (or group name) to your clipboard (OSC 52)",
    ),
    bind(HANDOFF, &[Char('C')], "C", CopyGroup, None, "copy the selected row's group name to your clipboard"),
    bind(
        HANDOFF,
        &[Char('w')],
        "w",
        WriteFiles,
        Some("write files"),
        "write the mapping file (TOML) and the admin-center CSV",
    ),
    bind(
        HANDOFF,
        &[Char('D')],
        "D",
        Recorded,
        Some("saved in Calendly"),
        "saved in Calendly: record it as the table of record (asks)",
    ),
    bind(
        HANDOFF,
        &[Char('v')],
        "v",
        Verify,
        Some("verify"),
        "verify: reload and check who is where the recorded table says",
    ),
    bind(Lists, &[Char('j'), DOWN], "j/↓", Down, None, "move down"),
    bind(Lists, &[Char('k'), UP], "k/↑", Up, None, "move up"),
    bind(Lists, &[Char('g'), HOME], "g/Home", Top, None, "go to the top"),
    bind(Lists, &[Char('G'), END], "G/End", Bottom, None, "go to the bottom"),
    bind(Lists, &[PGUP, Ctrl('u')], "PgUp", PageUp, None, "page up"),
    bind(Lists, &[PGDN, Ctrl('d')], "PgDn", PageDown, None, "page down"),
    bind(Mapping, &[TAB, BACKTAB], "Tab", SwitchPane, None, "switch pane (IdP values / Calendly groups)"),
    bind(Lists, &[Char('/')], "/", Filter, Some("filter"), "fuzzy filter the list (Esc clears)"),
    bind(Mapping, &[ENTER], "Enter", Map, Some("map"), "map the selected value to the selected group"),
    bind(Mapping, &[Char('x'), DEL], "x/Del", Unmap, Some("unmap"), "unmap the selected value"),
    bind(Mapping, &[Char('m')], "m", ToggleMapping, None, "turn group mapping on/off"),
    bind(Mapping, &[Char('d')], "d", SetDefault, None, "set the selected group as default group (again: clear)"),
    bind(Mapping, &[Char('e')], "e", ToggleApplyExisting, None, "toggle apply to existing users"),
    bind(
        Mapping,
        &[Char('n')],
        "n",
        NewGroup,
        None,
        "map the selected value to a group by name (a new name makes a new group)",
    ),
    bind(Mapping, &[Char('s')], "s", Suggest, Some("suggest"), "suggest groups for unmapped values"),
    // Findings: the next one from the Mapping screen, the values pane's views, the list's Enter.
    bind(Mapping, &[Char(']')], "]", NextFinding, None, "select the next value with a finding"),
    bind(Mapping, &[Char('[')], "[", PrevFinding, None, "select the previous value with a finding"),
    bind(
        Mapping,
        &[Char('v')],
        "v",
        CycleView,
        None,
        "list all values, only the unmapped ones, or only those with findings",
    ),
    bind(
        FINDINGS,
        &[ENTER],
        "Enter",
        JumpToFinding,
        Some("goes to the row"),
        "go to the finding's value on the Mapping screen",
    ),
    bind(FIELDS, &[Char('e')], "e", UseAsEmail, Some("email column"), "use the selected column as the login email"),
    bind(FIELDS, &[Char('i')], "i", UseAsIdp, Some("IdP column"), "use the selected column as the IdP group value"),
    bind(PREVIEW, &[Char('h'), LEFT], "h/←", ScrollLeft, None, "scroll the preview left"),
    bind(PREVIEW, &[Char('l'), RIGHT], "l/→", ScrollRight, Some("scroll"), "scroll the preview right (long lines)"),
    // Preview and findings before undo: at 80 columns the footer has room for them, not undo.
    bind(Everywhere, &[Char('p')], "p", Action::Preview, Some("preview"), "preview: who moves where"),
    bind(
        Everywhere,
        &[Char('F'), Char('!')],
        "F/!",
        Action::Findings,
        Some("findings"),
        "findings: what each means and what to do (again: back)",
    ),
    bind(Everywhere, &[Char('u')], "u", Undo, Some("undo"), "undo"),
    bind(Everywhere, &[Ctrl('r')], "C-r", Redo, None, "redo"),
    bind(Everywhere, &[Char('f')], "f", Action::Fields, None, "match the export's fields (email, IdP group)"),
    bind(Everywhere, &[Char('S')], "S", Save, Some("save"), "save the mapping (asks first; read-only: the hand-off)"),
    bind(Everywhere, &[Char('r')], "r", Reload, None, "reload from the server (edits are kept)"),
    bind(Everywhere, &[Char('?')], "?", Action::Help, Some("help"), "help"),
    bind(Everywhere, &[ESC], "Esc", Back, None, "back / clear filter / cancel loading"),
    bind(Everywhere, &[Char('q')], "q", Quit, Some("quit"), "quit (asks when edits are unsaved)"),
    bind(Always, &[Ctrl('c')], "C-c", Exit, None, "exit now (unsaved edits stay in the draft)"),
    bind(Always, &[Ctrl('l')], "C-l", Redraw, None, "redraw the screen"),
    // Restatements (see `Scope::Loading`).
    bind(Loading, &[ESC], "Esc", Back, Some("cancels"), "back / clear filter / cancel loading"),
    bind(Loading, &[Char('q')], "q", Quit, Some("quits"), "quit (asks when edits are unsaved)"),
    bind(LoadFailed, &[Char('r')], "r", Reload, Some("retries"), "reload from the server (edits are kept)"),
    bind(
        LoadFailed,
        &[Char('f')],
        "f",
        Action::Fields,
        Some("chooses the export's columns"),
        "match the export's fields (email, IdP group)",
    ),
    bind(LoadFailed, &[Char('q')], "q", Quit, Some("quits"), "quit (asks when edits are unsaved)"),
    bind(TooSmall, &[Char('q')], "q", Quit, Some("quits"), "quit (asks when edits are unsaved)"),
    bind(TooSmall, &[Ctrl('c')], "C-c", Exit, Some("exits"), "exit now (unsaved edits stay in the draft)"),
    // Typing a filter.
    bind(FilterInput, &[ENTER], "Enter", Confirm, Some("keeps the filter"), "keep the filter and move in the list"),
    bind(FilterInput, &[ESC], "Esc", Cancel, Some("clears it"), "clear the filter"),
    bind(FilterInput, &[BACKSPACE], "Backspace", Erase, None, "delete the last character"),
    bind(FilterInput, &[UP], "↑", Up, None, "move up while typing"),
    bind(FilterInput, &[DOWN], "↓", Down, None, "move down while typing"),
    bind(FilterInput, &[PGUP], "PgUp", PageUp, None, "page up while typing"),
    bind(FilterInput, &[PGDN], "PgDn", PageDown, None, "page down while typing"),
    // The help overlay.
    bind(IN_HELP, &[ESC, Char('?'), Char('q')], "Esc/?", Close, Some("closes"), "close the help (also q)"),
    bind(IN_HELP, &[Char('j'), DOWN], "j/↓", Down, Some("down"), "scroll the help down"),
    bind(IN_HELP, &[Char('k'), UP], "k/↑", Up, Some("up"), "scroll the help up"),
    bind(IN_HELP, &[Char('g'), HOME], "g/Home", Top, Some("top"), "jump to the top of the help"),
    bind(IN_HELP, &[Char('G'), END], "G/End", Bottom, Some("end"), "jump to the end of the help"),
    // Dialogs.
    bind(
        IN_SAVE,
        &[TAB, BACKTAB, LEFT, RIGHT, Char('h'), Char('l')],
        "Tab",
        ToggleFocus,
        Some("switches"),
        "switch between Cancel and Save (also ←/→, h/l)",
    ),
    bind(IN_SAVE, &[ENTER], "Enter", Choose, Some("chooses"), "press the focused button"),
    bind(IN_SAVE, &[ESC, Char('n'), Char('q')], "Esc", Cancel, Some("cancels"), "cancel: nothing is saved (also n, q)"),
    bind(IN_QUIT, &[Char('y')], "y", Yes, Some("quits"), "quit (the dialog says where the edits are)"),
    bind(IN_QUIT, &[Char('n'), ESC, Char('q')], "n/Esc", No, Some("stays"), "stay in the editor"),
    bind(IN_NEW_GROUP, &[ENTER], "Enter", Confirm, Some("confirms"), "map the value to the group named"),
    bind(IN_NEW_GROUP, &[ESC], "Esc", Cancel, Some("cancels"), "cancel the new group"),
    bind(IN_NEW_GROUP, &[BACKSPACE], "Backspace", Erase, None, "delete the last character of the name"),
    bind(IN_SUGGESTIONS, &[ENTER, Char('a')], "Enter/a", Accept, Some("accepts"), "accept the selected suggestion"),
    bind(IN_SUGGESTIONS, &[Char('A')], "A", AcceptAll, Some("accepts all"), "accept every suggestion"),
    bind(IN_SUGGESTIONS, &[Char('x'), DEL], "x/Del", Skip, Some("skips"), "skip the selected suggestion"),
    bind(IN_SUGGESTIONS, &[Char('j'), DOWN], "j/↓", Down, None, "next suggestion"),
    bind(IN_SUGGESTIONS, &[Char('k'), UP], "k/↑", Up, None, "previous suggestion"),
    bind(IN_SUGGESTIONS, &[ESC, Char('q')], "Esc", Close, Some("closes"), "close the suggestions (also q)"),
    bind(IN_DRAFT, &[Char('y'), ENTER], "y", Yes, Some("restores"), "restore the selected draft's edits (also Enter)"),
    bind(IN_DRAFT, &[Char('n'), DEL], "n", No, Some("discards"), "discard the selected draft (deletes it; also Del)"),
    bind(IN_DRAFT, &[Char('j'), DOWN], "j/↓", Down, None, "next draft"),
    bind(IN_DRAFT, &[Char('k'), UP], "k/↑", Up, None, "previous draft"),
    bind(
        IN_DRAFT,
        &[ESC, Char('l')],
        "Esc",
        Close,
        Some("later"),
        "decide later: the drafts stay and are offered again (also l)",
    ),
    bind(IN_RESULT, &[Any], "any key", Close, Some("closes"), "close the save's result"),
    bind(IN_SAVING, &[Char('y')], "y", Yes, Some("quits now"), "quit during a save, once C-c asked (or C-c again)"),
    bind(IN_SAVING, &[Char('n'), ESC], "n", No, Some("keeps waiting"), "keep waiting for the save to end (also Esc)"),
    bind(IN_CONFLICTS, &[Char('m')], "m", PickMine, Some("keeps mine"), "keep my version of the row"),
    bind(IN_CONFLICTS, &[Char('t')], "t", PickTheirs, Some("takes theirs"), "take their version of the row"),
    bind(IN_CONFLICTS, &[Char('j'), DOWN], "j/↓", Down, None, "next conflicting row"),
    bind(IN_CONFLICTS, &[Char('k'), UP], "k/↑", Up, None, "previous conflicting row"),
    bind(IN_CONFLICTS, &[ENTER, ESC], "Enter", Close, Some("done"), "done choosing (also Esc)"),
    bind(IN_RECORD, &[Char('y')], "y", Yes, Some("records"), "record the table as entered in Calendly"),
    bind(IN_RECORD, &[Char('n'), ESC], "n/Esc", No, Some("cancels"), "do not record it (yet)"),
];
