/* test_sha3.c - SHA3/SHAKE against FIPS 202 answers (computed with an independent implementation,
 * Python hashlib/OpenSSL), at every rate boundary, and incremental squeezing. */
#include "aq_sha3.h"
#include "aq_test.h"

/* msg(n)[i] = (7i + 3) mod 256 */
static void make_msg(uint8_t *m, size_t n) {
  for (size_t i = 0; i < n; i++) {
    m[i] = (uint8_t)((i * 7 + 3) % 256);
  }
}

static const struct {
  size_t n;
  const char *sha3_256, *sha3_512, *shake128_40, *shake256_40;
} vec[] = {
    {0,
     "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a",
     "a69f73cca23a9ac5c8b567dc185a756e97c982164fe25859e0d1dcc1475c80a615b2123af1f5f94c11e3e9402c3ac558f500199d95b6d3e301758586281dcd26",
     "7f9c2ba4e88f827d616045507605853ed73b8093f6efbc88eb1a6eacfa66ef263cb1eea988004b93",
     "46b9dd2b0ba88d13233b3feb743eeb243fcd52ea62b81b82b50c27646ed5762fd75dc4ddd8c0f200"},
    {1,
     "e3ed56bd086d8958483a12734fa0ae7f5c8bb160ef9092c67e82ed9b19e4c7b2",
     "a63f9712aadceb0fe16f1881719a802294830fa1f7a0e58ff26a45a814309961c5007f43f4e224a82d3f538a6c8af7d87ec71fb6661bfac0dc0cd9367ddb04ce",
     "776915233d1e79097718e09db209efa466affa24d35c78e7a1f80cf4ebb6c28b25dfeba0eb3e6344",
     "db4252337900d8ab7f609d170135d459a6798945d5a574d4a9db7b623c754d078fb2239762994969"},
    {71,
     "254f2ac1df8eae4233c0c2fe74a03331b856518800936943cdbe57d7d224f224",
     "a02d5795bffd44cb0ac3cc3401ae89056b8017242eaf7e802033e974672ce7945811760c3b0d9578bc51bf90c364636ac87cda9b4f3e45620ea9c030421e9d86",
     "4a7cb3f7fb0004e031fb6317d81da96993227b8e514f19a7e037e7541e5b15112a75a51c337e1143",
     "c5492c4e150f073fa316ab32f6752abf52914ee2a4207f09e35586b7205948df80ce444e94a78fb6"},
    {72,
     "f4bb95e698a2c13bd27f089f3762076daa40b629dc5d7ec53dbe163fca4a4bf3",
     "2ec0da5ff440c192d33033c4257eb39dcbd27edd7e41b5ac8db9daf13db501a2ef938151aaddd82f600335654f77512cbcc926ec5abb05b79282ec716d685618",
     "4bbb1d27936a26de9c41ef1a7014be106ab9ad8f10dd68e8d693d00dbdb89f2b0b68b058fc5ff5b5",
     "f4771493e402a8aa4fc0251ee80b3f142481417b3dd942dcf72d96e26f75ad6a08db744812ddc576"},
    {73,
     "c610c3522f9423c2c706b1e26e532b121b67eb06c897d478ac6bb80ddbc8ae1f",
     "d26d1f9fc91b1d6c31405cc4a546f246fa7777f698d956c26a15170bccdd696aab3ee2e0597ee6f33bc7ac0336b1e4bfa0cc4355ab9faf8111cf27312640fd65",
     "d639407b276ee21fdcefe0e178d35b4901e19a0283879943e085d3a05c38f7575320f2341242d167",
     "8bae34cf4fcbba9c49fd2245431d94598e5596243104c0ec61ea3000cec0720882b8072183b1e65b"},
    {135,
     "d9dcf1f98e49a79b0643a9e68fef48079ff8777c5e7e7f93469ded65f192ac71",
     "9e9d81e346cf9a62dc4bda518e4096db553188368da1535eaa441982b98d399c0c8f0136f987886b94d1770387e07b276660317ccb66884cc7427550b7780cd4",
     "c46af4f9a43a25a3f21d90f6a131ff3ed6944306e8c29a7c03f7e237e42c7e0cb50cb0717fe22ddf",
     "0213fc98352f009fafdf8ee1ea36391485a85aa6f6c07a5cd81266d21eb17f9af3e3a6aa4a5e0379"},
    {136,
     "743bd32e775ac7387a57d4d574c89ddef5ebcb08bb5cc6b88c55a27b5035cc45",
     "62c81b78426786e5a5d431082d98857c7e6b1988fd721478386233be5c19731cea3944dc24e192fb976e422d8bd31524c35026e615ab54c31a58ab772abfe6d7",
     "c9b065cf999862c0c15d02ffa9450e5bf9b57d8457e3a366700de35043f450b4824f8f71f320454f",
     "c00f43811e5b4a38e14e3c06d8a5ce34115a19cd604ce5bac6c3823b76046d5c6b149f173bef3089"},
    {137,
     "01d47e8d6dce6e3dcbf1baa6f845b6ace4ef74bd17da8176ecc49bc35dbe5d21",
     "3fd9dc45a7cdc291153d7b714ad68d824184c4166d2c980d41d5eaf9266e03892f965346361f62cb34404cfea6ea165dcdd8c34be99abdc9c500a1fedc315402",
     "4bd0a672017e58746a1d4c98e2474ce03edf72679bb40f9613070cff215ae1b7705d52cedab54f9f",
     "3c983983487bcbe74feba53b35bb1e05812379cb4116d9761f78d2ce3177866edc88e750bfaf43bd"},
    {167,
     "684bf83317ea400f033de352516c168261086092de3a12b6478a20f870a18096",
     "f630f6e4fb09197b8d2503268c3fa8c5e637d7c991b7ee79d7e12ba5cc6e53f27f62f643df5fd6d254f515bcbe687b6ab9e442ffbad82288f026d6cf0645ffc6",
     "bb961bb015521037905f9baf69ce60dd3ba73f6ead09a559c8d8a85e10753bca9a8a96b773b3dbae",
     "89a2450c9785e8a01d1baca6b7023479d3a0de33c757a9a584ec84714894c3b774b2960a6ae3a2f5"},
    {168,
     "a5a267be792383677005e1628c1c16a64e0c4e2c9ce096287d389c58706a86d1",
     "460d5cc545a8c466031bb9002635167603da38b2496544508b5af2f123c33feb690a5b4c442ed89191687f0f1b9dddc7ff343f148f306f85c68e1ce3c8a68b8c",
     "d4f73f3b6c4b72d05f45ed1f80b5774409f9cf336fc202bffa42ac38a6d3fbee3d8bdcebc4fbd562",
     "8e824d0df5f99be40bd0c4ee530e2b409a7c7713aba1ee96c56fb7f35729504e05dc6f8adb84b7e8"},
    {169,
     "f7a2c4983e6cf26809daea869b625a0748da650270acad5d223be730bb700954",
     "6168dfb98a5dc4257914b2af383012d4202cbcd77afa316c62e5495b394496bd2ff411fab81c081d8f41de1c7e0273fbb3cf9a38d0892235ac60e5090c4d5904",
     "30454dd0f630ab1bb8fada554060d54012efdbb8e782d013f83a16af1282ca8158bbd3cd16300be2",
     "e76eaecce9983b4be8a8b9cd8b5a457e9b6995449ad142af68a83a0e171e52bb638feadda7d5732e"},
    {500,
     "00feda856f27ffba753868e7cf5aa894d13043e8db549eb94dff21cd61de7714",
     "ab952b62599d04cf807bac57350e73aa5b2cb02d7bfd824dee3eb3e7d1af1ede50ac978db3a23d7a7ddde808931431b749208d197a1b69180c8858a86d088da5",
     "bbc1fdc161528541eb49e76d887618b52c3abe36f7fe62a1ccbdc759905a4fc1275b0de36baab7c2",
     "14d563499d9deab236d01e126383860e3d50f05e713ce10c48143e24680084c6315c39b52cee3cb8"},
};

AQ_TEST(sha3_fips202_answers) {
  uint8_t m[500], out[64];
  make_msg(m, sizeof(m));
  for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
    aq_sha3_256(out, m, vec[i].n);
    CHECK(aq_test_memeq_hex(out, 32, vec[i].sha3_256));
    aq_sha3_512(out, m, vec[i].n);
    CHECK(aq_test_memeq_hex(out, 64, vec[i].sha3_512));
    aq_shake128(out, 40, m, vec[i].n);
    CHECK(aq_test_memeq_hex(out, 40, vec[i].shake128_40));
    aq_shake256(out, 40, m, vec[i].n);
    CHECK(aq_test_memeq_hex(out, 40, vec[i].shake256_40));
  }
}

/* Absorbing and squeezing in pieces of every size gives the one-shot result. */
AQ_TEST(sha3_incremental_absorb_squeeze) {
  uint8_t m[500], want[600], got[600];
  make_msg(m, sizeof(m));
  aq_shake128(want, sizeof(want), m, sizeof(m));
  for (size_t step = 1; step < 200; step += 13) {
    aq_keccak k;
    aq_shake128_init(&k);
    for (size_t off = 0; off < sizeof(m); off += step) {
      aq_keccak_absorb(&k, m + off, off + step > sizeof(m) ? sizeof(m) - off : step);
    }
    for (size_t off = 0; off < sizeof(got); off += step) {
      aq_keccak_squeeze(&k, got + off, off + step > sizeof(got) ? sizeof(got) - off : step);
    }
    CHECK_MEM(got, want, sizeof(want));
  }
  aq_keccak k;
  aq_shake256_init(&k);
  aq_keccak_absorb(&k, m, 137);
  aq_keccak_squeeze(&k, got, 1);
  aq_keccak_squeeze(&k, got + 1, 39);
  CHECK(aq_test_memeq_hex(got, 40, vec[7].shake256_40)); /* n = 137 */
}
