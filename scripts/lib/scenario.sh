# shellcheck shell=bash
# Helpers for building and reading `teachcam scenario` runs, sourced by scripts/catsdogs_scenario.sh
# and scripts/ci-aarch64.sh:
#
#   . scripts/lib/scenario.sh
#   scenario_link_first PHOTOS/train/cat 20 WORK/teach/cat
#   scenario_write_toml WORK/teach.toml WORK/data WORK/teach PHOTOS/test 5 cat dog
#   json=$(teachcam scenario WORK/teach.toml --json)
#   scenario_print_summary WORK/teach.toml "$json"
#   correct=$(scenario_json_get "$json" correct)
#
# Plain bash, GNU coreutils, sed and awk: no jq or python, since these scripts run on a fresh
# Debian. (tests/scenario.rs builds the same kind of scenario in Rust.)

# scenario_link_first SRC_DIR N DEST_DIR
# Symlinks the first N *.jpg photos of SRC_DIR into DEST_DIR (created when missing) as 000.jpg,
# 001.jpg, ..., so that a scenario shows them in that order. "First" is natural name order
# (sort -V: cat.2.jpg before cat.10.jpg), i.e. label.0.jpg ... label.N-1.jpg for the cats/dogs
# set, the same photos as tests/catsdogs.rs and tests/scenario.rs. The links are absolute.
# Fails when SRC_DIR has fewer than N photos.
scenario_link_first() {
    local src="$1" n="$2" dest="$3" i=0 f
    src="$(cd "$src" && pwd)" || return 1
    mkdir -p "$dest" || return 1
    while IFS= read -r f; do
        ln -s "$src/$f" "$dest/$(printf '%03d' "$i").jpg" || return 1
        i=$((i + 1))
    done < <(find "$src/" -maxdepth 1 -name '*.jpg' -printf '%f\n' | LC_ALL=C sort -V | head -n "$n")
    if [ "$i" -ne "$n" ]; then
        echo "scenario_link_first: $src holds $i photos, $n wanted" >&2
        return 1
    fi
}

# scenario_link_none_half NONE_DIR build|eval DEST_DIR
# Symlinks one half of the "nothing known" photos (../shared/data/none) into DEST_DIR. The fixed
# rule: file names in byte order; the build half is every other one starting with the first
# (indices 0, 2, 4, ...: what the shipped background set is made from), the eval half the rest
# (only ever used to measure). Prints how many were linked.
scenario_link_none_half() {
    local src="$1" half="$2" dest="$3" keep n=0 f
    case "$half" in
    build) keep=1 ;;
    eval) keep=0 ;;
    *)
        echo "scenario_link_none_half: half must be build or eval, not '$half'" >&2
        return 1
        ;;
    esac
    src="$(cd "$src" && pwd)" || return 1
    mkdir -p "$dest" || return 1
    while IFS= read -r f; do
        ln -s "$src/$f" "$dest/$f" || return 1
        n=$((n + 1))
    done < <(find "$src/" -maxdepth 1 -name '*.jpg' -printf '%f\n' | LC_ALL=C sort | awk -v k="$keep" 'NR % 2 == k')
    echo "$n"
}

# scenario_add_frames FILE DIR REPEAT
# Appends a step to scenario FILE that shows DIR and its sub-folders, REPEAT frames per image.
scenario_add_frames() {
    {
        echo '[[step]]'
        echo "frames = $(scenario_toml_string "$2")"
        echo 'recurse = true'
        echo "repeat = $3"
    } >>"$1"
}

# scenario_toml_string TEXT: TEXT as a TOML basic string (quoted, \ and " escaped).
scenario_toml_string() {
    local s="${1//\\/\\\\}"
    printf '"%s"' "${s//\"/\\\"}"
}

# scenario_write_toml FILE DATA_DIR TEACH_DIR TEST_DIR REPEAT [LABEL...]
# Writes the scenario FILE:
#   - data = DATA_DIR (left out when empty: the run then uses a fresh temporary folder);
#   - per LABEL, a step showing TEACH_DIR/LABEL's images with LABEL's button held;
#   - when there are labels, a press of TRAIN (the run waits until training has finished);
#   - a step showing TEST_DIR and its sub-folders, REPEAT frames per image (left out when
#     TEST_DIR is empty). Each image's expected label is its parent folder's name.
# Without labels (TEACH_DIR is then ignored) it is a detect-only run, e.g. after a restart.
scenario_write_toml() {
    local file="$1" data="$2" teach="$3" test="$4" repeat="$5" label
    shift 5
    {
        [ -z "$data" ] || echo "data = $(scenario_toml_string "$data")"
        for label in "$@"; do
            echo '[[step]]'
            echo "frames = $(scenario_toml_string "$teach/$label")"
            echo "hold = $(scenario_toml_string "$label")"
        done
        if [ $# -gt 0 ]; then
            echo '[[step]]'
            echo 'press = "train"'
        fi
        if [ -n "$test" ]; then
            echo '[[step]]'
            echo "frames = $(scenario_toml_string "$test")"
            echo 'recurse = true'
            echo "repeat = $repeat"
        fi
    } >"$file"
}

# scenario_json_get JSON KEY
# Prints the value of the top-level KEY of the one-line JSON object that
# `teachcam scenario --json` prints: a number as written (scored, correct, accuracy, ...), a
# string without its quotes (data; the escapes \" \\ \/ undone). Members are consumed one at a
# time from the left, so a key of the same name inside "examples" or inside a string is never
# taken for it. Fails (status 1, a message on stderr) when KEY is absent or holds something else.
scenario_json_get() {
    local json="$1" key="$2" value
    case "$key" in
    '' | [!A-Za-z_]* | *[!A-Za-z0-9_]*)
        echo "scenario_json_get: bad key '$key'" >&2
        return 1
        ;;
    esac
    value="$(printf '%s\n' "$json" | sed -nE '
        :next
        s/^[{,]"'"$key"'":"(([^"\\]|\\.)*)"[,}].*/\1/
        t string
        s/^[{,]"'"$key"'":(-?[0-9][0-9.eE+-]*)[,}].*/\1/p
        t
        s/^[{,]"([^"\\]|\\.)*":("([^"\\]|\\.)*"|\{[^{}]*\}|[^",{}]*)//
        t next
        q
        :string
        s/\\(["\\/])/\1/g
        s/^/=/p
    ')"
    if [ -z "$value" ]; then
        echo "scenario_json_get: no number or string \"$key\" in: $json" >&2
        return 1
    fi
    # Strings come back behind a '=', to tell an empty string from a missing key.
    printf '%s\n' "${value#=}"
}

# scenario_json_examples JSON: the "examples" object as "cat 20, dog 20" ("none" when empty).
scenario_json_examples() {
    local ex
    ex="$(printf '%s\n' "$1" | sed -nE 's/.*[{,]"examples":\{([^{}]*)\}.*/\1/p')"
    if [ -z "$ex" ]; then
        echo none
    else
        printf '%s\n' "$ex" | sed -E 's/"(([^"\\]|\\.)*)":/\1 /g; s/,/, /g'
    fi
}

# scenario_accuracy_percent JSON: the LED accuracy in percent with 2 decimals, e.g. 98.10.
scenario_accuracy_percent() {
    local a
    a="$(scenario_json_get "$1" accuracy)" || return 1
    awk -v a="$a" 'BEGIN { printf "%.2f\n", a * 100 }'
}

# scenario_print_summary FILE JSON
# Prints the summary of a run of scenario FILE from its --json line, as the same lines as
# `teachcam scenario FILE` without --json.
scenario_print_summary() {
    local file="$1" json="$2" frames data unreadable multiple_lit correct scored pct
    frames="$(scenario_json_get "$json" frames)" &&
        data="$(scenario_json_get "$json" data)" &&
        unreadable="$(scenario_json_get "$json" unreadable)" &&
        multiple_lit="$(scenario_json_get "$json" multiple_lit)" &&
        correct="$(scenario_json_get "$json" correct)" &&
        scored="$(scenario_json_get "$json" scored)" || return 1
    echo "scenario $file: $frames frames, data folder $data"
    echo "examples: $(scenario_json_examples "$json")"
    [ "$unreadable" = 0 ] || echo "unreadable frames skipped: $unreadable"
    echo "frames with two or more LEDs lit: $multiple_lit"
    if [ "$scored" = 0 ]; then
        echo "LED accuracy: nothing to score (no image with an expected label was shown with no button held)"
        return 0
    fi
    pct="$(scenario_accuracy_percent "$json")" || return 1
    echo "LED accuracy $pct% ($correct of $scored images, scored on the last frame of each)"
}
