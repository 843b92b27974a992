# shellcheck shell=bash
# Sourced by the benchmark scripts (scripts/bench-*.sh).

# bench_step MESSAGE: a progress line on stderr.
bench_step() { echo "== ${BENCH_NAME:-bench}: $*" >&2; }

# bench_trained_data TEACHCAM PHOTOS DIR [SHOTS]: makes DIR a data folder with a head trained on
# the first SHOTS (default 5) photos of PHOTOS/train/cat and PHOTOS/train/dog, with the model of
# the default config; kept when DIR/head.json already exists.
bench_trained_data() {
    local tc=$1 photos=$2 dir=$3 shots=${4:-5} label
    local -a files
    [ -f "$dir/head.json" ] && return 0
    bench_step "making $dir: $shots photos per label from $photos/train, then train"
    rm -rf "$dir"
    for label in cat dog; do
        mapfile -t files < <(find "$photos/train/$label" -maxdepth 1 -iname '*.jpg' | LC_ALL=C sort | head -n "$shots")
        if [ "${#files[@]}" -ne "$shots" ]; then
            echo "fewer than $shots photos in $photos/train/$label" >&2
            return 1
        fi
        "$tc" --data "$dir" import --label "$label" "${files[@]}" >&2
    done
    "$tc" --data "$dir" train >&2
}

# bench_link_frames PHOTOS N DIR: links N different photos into DIR as 0000.jpg, 0001.jpg, …
# alternating PHOTOS/test/cat and PHOTOS/test/dog (so what is in view keeps changing).
bench_link_frames() {
    local photos=$1 n=$2 dir=$3 i=0 c d
    local -a cats dogs
    mapfile -t cats < <(find "$photos/test/cat" -maxdepth 1 -iname '*.jpg' | LC_ALL=C sort | head -n $(((n + 1) / 2)))
    mapfile -t dogs < <(find "$photos/test/dog" -maxdepth 1 -iname '*.jpg' | LC_ALL=C sort | head -n $((n / 2)))
    if [ $((${#cats[@]} + ${#dogs[@]})) -ne "$n" ]; then
        echo "fewer than $n photos under $photos/test/{cat,dog}" >&2
        return 1
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    for ((c = 0; c < ${#cats[@]}; c++)); do
        ln -s "$(readlink -f "${cats[$c]}")" "$dir/$(printf %04d $i).jpg"
        i=$((i + 1))
        d=${dogs[$c]:-}
        if [ -n "$d" ]; then
            ln -s "$(readlink -f "$d")" "$dir/$(printf %04d $i).jpg"
            i=$((i + 1))
        fi
    done
}
