//! The face data sets: ORL and the LFW greyscale subset, with the identity split.

use pairwise_datasets::{
    all_pairs, check_pair_images, exclude_pair_identities, pair_identities, present_pairs,
    read_face_pairs, ClassBalancedBatchSampler, ImageFolder, ImageOptions, Result,
    SmallClassPolicy,
};

use crate::data_dir;

#[test]
fn orl_has_40_identities_of_10_images_of_92_by_112() -> Result<()> {
    let orl = ImageFolder::open(data_dir().join("orl-faces"))?;
    assert_eq!(orl.classes().len(), 40);
    assert_eq!(orl.classes()[..3], ["s1", "s2", "s3"]);
    assert!(orl.class_sizes().iter().all(|&n| n == 10));
    let first = pairwise_datasets::load_image(
        &orl.items()[0].path,
        &ImageOptions {
            width: 92,
            height: 112,
            on_size_mismatch: pairwise_datasets::SizePolicy::Exact,
            ..ImageOptions::default()
        },
    )?;
    assert_eq!(first.pixels.len(), 92 * 112);
    // The held-out protocol: s31..s40 give 45 same pairs per identity... 10 x 45 = 450 of 4950.
    let held_out = orl.retain_classes(|name, _| name[1..].parse::<u32>().is_ok_and(|n| n > 30));
    let pairs = all_pairs(&held_out, 10);
    assert_eq!(pairs.len(), 4950);
    assert_eq!(pairs.iter().filter(|p| p.same).count(), 450);
    check_pair_images(&pairs, held_out.root())?;
    let train = exclude_pair_identities(&orl, &pairs);
    assert_eq!(train.classes().len(), 30);
    Ok(())
}

#[test]
fn lfw_training_identities_never_appear_in_the_evaluation_pairs() -> Result<()> {
    let root = data_dir().join("lfw-gray-subset");
    let images = root.join("images");
    let available = read_face_pairs(root.join("pairs_available.tsv"))?;
    assert_eq!(available.len(), 1852);
    assert_eq!(available.iter().filter(|p| p.same).count(), 1287);
    check_pair_images(&available, &images)?;
    // The official file has 6000 pairs; the available ones are exactly those present.
    let official = read_face_pairs(root.join("pairs.txt"))?;
    assert_eq!(official.len(), 6000);
    assert_eq!(official.iter().filter(|p| p.fold == 9).count(), 600);
    let present = present_pairs(&official, &images);
    assert_eq!(present.len(), available.len());
    assert!(present
        .iter()
        .zip(&available)
        .all(|(a, b)| (&a.left, &a.right, a.fold) == (&b.left, &b.right, b.fold)));
    assert!(check_pair_images(&official, &images).is_err());

    let folder = ImageFolder::open(&images)?;
    assert_eq!(folder.classes().len(), 2470);
    assert_eq!(folder.items().len(), 6045);
    let evaluation = pair_identities(&available);
    let train = exclude_pair_identities(&folder, &available);
    assert!(train
        .classes()
        .iter()
        .all(|name| !evaluation.contains(name)));
    assert_eq!(
        train.classes().len() + evaluation.len(),
        folder.classes().len()
    );
    // Identities with a single image cannot fill a P×K group: skipped, or a clear error.
    let labels = train.labels();
    let err = ClassBalancedBatchSampler::new(&labels, 16, 2, 0, SmallClassPolicy::Error);
    assert!(err.is_err());
    let sampler = ClassBalancedBatchSampler::new(&labels, 16, 2, 0, SmallClassPolicy::Skip)
        .map_err(|e| pairwise_datasets::DatasetError::Inconsistent {
            path: images.clone(),
            reason: e.to_string(),
        })?;
    assert!(!sampler.epoch(0).is_empty());
    Ok(())
}
